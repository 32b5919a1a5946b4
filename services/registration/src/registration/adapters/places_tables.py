"""Places tables: grids, parties, property managers, sweep discoveries.

``properties.grid_id`` and ``employers.grid_id`` are not foreign keys to ``grids``: both
were registered before the grid registry existed (see the hook in the README).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    text,
)

from common.db import UtcDateTime
from registration.adapters.metadata import metadata

grids = Table(
    "grids",
    metadata,
    Column("id", String(50), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("community", String(100), nullable=False, index=True),
    Column("grid_worker", String(200), nullable=True),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

# A person party's id is its person_ref, an organisation's its credit code.
parties = Table(
    "parties",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("person_ref", String(40), nullable=True, unique=True),
    Column("credit_code", String(18), nullable=True, unique=True),
    Column("name", String(200), nullable=True),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

# History is kept: a removed manager keeps its row with removed_at set.
property_managers = Table(
    "property_managers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("property_id", String(36), nullable=False),
    Column("party_id", String(100), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("assigned_by", String(200), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("removed_by", String(200), nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(["property_id"], ["properties.id"]),
    ForeignKeyConstraint(["party_id"], ["parties.id"]),
    Index(
        "uq_property_managers_active",
        "property_id",
        "party_id",
        unique=True,
        postgresql_where=text("removed_at IS NULL"),
        sqlite_where=text("removed_at IS NULL"),
    ),
)

# One row per building an inspection sweep reported (the discovery id deduplicates
# redeliveries that arrive with a new ce_id).
property_discoveries = Table(
    "property_discoveries",
    metadata,
    Column("discovery_id", String(100), primary_key=True),
    Column("sweep_id", String(100), nullable=False),
    Column("grid_id", String(50), nullable=False),
    Column("address", String(500), nullable=False),
    Column("rooms", JSON, nullable=False),
    Column("landlord_hint", String(100), nullable=True),
    Column("discovered_at", UtcDateTime, nullable=False),
    Column("officer", String(200), nullable=False),
    Column("status", String(30), nullable=False),
    Column("property_id", String(36), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("confirmed_by", String(200), nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Index("ix_property_discoveries_grid_status", "grid_id", "status"),
)
