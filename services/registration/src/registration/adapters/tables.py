"""Registration's tables. Personal data columns hold ciphertext; lookups use keyed hashes."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)

from common.db import NAMING, Id, UtcDateTime

metadata = MetaData(naming_convention=NAMING)

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

persons = Table(
    "persons",
    metadata,
    Column("person_ref", String(40), primary_key=True),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("gender", String(10), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("origin_region", String(6), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The current version; every version is in person_identity_history.
    Column("version", Integer, nullable=False, server_default=text("1")),
)

# Every version of every person record, encrypted like the record itself, with who
# recorded it, when and why. Version 1 is the record as created. ``id_hash`` is the
# lookup hash of that version's identity number (a correction moves the record's).
person_identity_history = Table(
    "person_identity_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_ref", String(40), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("change", String(20), nullable=False),
    Column("changed_fields", JSON, nullable=False),
    Column("id_hash", String(64), nullable=False),
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("gender", String(10), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("origin_region", String(6), nullable=False),
    Column("reason_enc", LargeBinary, nullable=True),  # free text: may name people
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("correlation_id", String(64), nullable=True),
    UniqueConstraint("person_ref", "version", name="uq_person_identity_history_version"),
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

# Read model fed by the registration.events consumer: the office's base figures.
grid_month_figures = Table(
    "grid_month_figures",
    metadata,
    Column("grid_id", String(50), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("declarations", Integer, nullable=False, default=0),
    Column("self_declared", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0),
    Column("over_capacity", Integer, nullable=False, default=0),
)

pii_access_log = Table(
    "pii_access_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("principal", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("action", String(40), nullable=False),
    Column("person_ref", String(40), nullable=False, index=True),
    Column("correlation_id", String(64), nullable=True),
)
