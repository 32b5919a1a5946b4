"""Inspection's registry: registration's properties, rooms, residences and open leads.

A read model fed by registration's public events, never written by inspection's own
commands. Ids are as wide as registration's (its schema bounds none of them).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Index, Integer, String, Table

from inspection.adapters.metadata import metadata

registry_properties = Table(
    "registry_properties",
    metadata,
    Column("property_id", String, primary_key=True),
    Column("grid_id", String, nullable=False, index=True),
    Column("capacity", Integer, nullable=False),
    Column("rooms", Integer, nullable=False),
    Column("room_numbers", JSON, nullable=False),
    Column("last_visited_on", Date, nullable=True),  # inspection's own: a completed visit
)

registry_residences = Table(
    "registry_residences",
    metadata,
    Column("residence_id", String, primary_key=True),
    Column("property_id", String, nullable=False),
    Column("room_no", String, nullable=False),
    Column("person_ref", String, nullable=False),
    Column("moved_in_on", Date, nullable=False),
    Column("self_declared", Integer, nullable=False),
    Column("ended", Integer, nullable=False, server_default="0"),
    Index("ix_registry_residences_property", "property_id", "ended"),
)

registry_leads = Table(
    "registry_leads",
    metadata,
    Column("lead_id", String, primary_key=True),
    Column("property_id", String, nullable=False, index=True),
    Column("open", Integer, nullable=False),
)

registry_findings = Table(
    "registry_findings",
    metadata,
    Column("finding_id", String, primary_key=True),
    Column("visit_id", String, nullable=False, index=True),
    Column("property_id", String, nullable=False),
    Column("outcome", String(20), nullable=False),
)
"""What registration made of each occupant a visit met (its OccupantFindingSettled)."""
