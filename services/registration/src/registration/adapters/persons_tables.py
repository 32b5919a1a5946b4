"""Persons: personal data columns hold ciphertext; lookups use keyed hashes.

Every version of a record is kept, and every read of personal data is logged.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    text,
)

from common.db import Id, UtcDateTime
from registration.adapters.metadata import metadata

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
