"""Reconciliation tables: aggregated sightings, entry keys, leads, address index, lists.

On the one ``metadata`` of :mod:`registration.adapters.metadata` (one migration history).
Nothing here holds an identity number: persons are the keyed hash of theirs
(``subject_hash``, equal to ``persons.id_hash``) and a masked copy on leads.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from common.db import UtcDateTime
from registration.adapters.metadata import metadata

# Access-control entries, aggregated: one row per (subject, property, local day) however
# many entries there were. This is what keeps a city's tens of millions of entries a day
# affordable: a batch is one multi-row upsert, not one row per entry.
access_sightings = Table(
    "access_sightings",
    metadata,
    Column("subject_hash", String(64), primary_key=True),
    Column("property_id", String(36), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("subject_kind", String(4), nullable=False),  # id | face (SubjectKind)
    Column("entries", Integer, nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Index("ix_access_sightings_day", "day"),  # retention purge
)

# The natural key of every entry applied, for the days an entry may still arrive (the lead
# window): a redelivered or re-posted entry is found here and not counted twice. Purged
# by day (the primary key's prefix).
access_entry_keys = Table(
    "access_entry_keys",
    metadata,
    Column("day", Date, primary_key=True),
    Column("key", BigInteger, primary_key=True),
)

leads = Table(
    "leads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("subject_hash", String(64), nullable=False),
    Column("subject_ref", String(40), nullable=False),
    Column("person_ref", String(40), nullable=True),
    Column("id_number_masked", String(18), nullable=False),
    Column("property_id", String(36), nullable=False),
    Column("grid_id", String(50), nullable=False),
    Column("source", String(20), nullable=False),  # LeadSource
    Column("status", String(10), nullable=False),  # open | closed
    Column("outcome", String(20), nullable=True),  # LeadOutcome, once closed
    Column("sightings", Integer, nullable=False),
    Column("distinct_days", Integer, nullable=False),
    Column("first_seen", UtcDateTime, nullable=True),
    Column("last_seen", UtcDateTime, nullable=True),
    Column("window_start", Date, nullable=False),
    Column("window_days", Integer, nullable=False),
    Column("list_id", String(36), nullable=True),
    Column("policy_version", String(100), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(200), nullable=True),
    Column("verification_id", String(100), nullable=True),
    Column("residence_id", String(36), nullable=True),
    Column("registration_needed", Boolean, nullable=False, default=False),
    ForeignKeyConstraint(["property_id"], ["properties.id"]),
    # At most one open lead per person and property, whichever feed or replica raised it.
    Index(
        "uq_leads_open",
        "subject_hash",
        "property_id",
        unique=True,
        postgresql_where=text("status = 'open'"),
        sqlite_where=text("status = 'open'"),
    ),
    Index("ix_leads_pair_closed", "subject_hash", "property_id", "closed_at"),
    Index("ix_leads_grid_status", "grid_id", "status", "opened_at"),
)

# Properties by normalised address, for five-elements lines that name an address only.
# A projection of PropertyRegistered (registration.events), so the properties table
# stays as it is; back-filled by the migration that created it.
property_addresses = Table(
    "property_addresses",
    metadata,
    Column("property_id", String(36), primary_key=True),
    Column("grid_id", String(50), nullable=False),
    Column("address_norm", String(500), nullable=False, index=True),
)

# One row per distinct five-elements list applied: the same content is not applied twice.
# ``report`` is the per-line result (no personal data).
five_elements_lists = Table(
    "five_elements_lists",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("content_sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("valid", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("leads_opened", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    UniqueConstraint("content_sha256", name="uq_five_elements_lists_content"),
)
