"""Properties, their rooms, and residences: who is declared to live where."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    text,
)

from common.db import UtcDateTime
from registration.adapters.metadata import metadata

properties = Table(
    "properties",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("address", String(500), nullable=False),
    Column("grid_id", String(50), nullable=False, index=True),
    Column("landlord_id", String(100), nullable=False, index=True),
    Column("channel", String(40), nullable=False),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

rooms = Table(
    "rooms",
    metadata,
    Column("property_id", String(36), primary_key=True),
    Column("room_no", String(50), primary_key=True),
    Column("capacity", Integer, nullable=False),
    ForeignKeyConstraint(["property_id"], ["properties.id"], ondelete="CASCADE"),
)

residences = Table(
    "residences",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_ref", String(40), nullable=False, index=True),
    Column("property_id", String(36), nullable=False),
    Column("room_no", String(50), nullable=False),
    Column("moved_in_on", Date, nullable=False),
    Column("declared_at", UtcDateTime, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("on_time", Boolean, nullable=False),
    Column("channel", String(40), nullable=False),
    Column("declared_by", String(200), nullable=False),
    Column("over_capacity", Boolean, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("end_reason", String(20), nullable=True),
    Column("ended_by", String(200), nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("superseded_by", String(36), nullable=True),
    Column("finding_id", String(64), nullable=True),  # declared from an inspection finding
    ForeignKeyConstraint(["property_id"], ["properties.id"]),
    Index("ix_residences_room_active", "property_id", "room_no", "ended_on"),
    # A declaration looks up the person's current residence(s) to end them.
    Index(
        "ix_residences_person_active",
        "person_ref",
        postgresql_where=text("ended_on IS NULL"),
        sqlite_where=text("ended_on IS NULL"),
    ),
)
