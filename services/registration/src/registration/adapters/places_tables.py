"""Places and agreements tables: grids, parties, property managers, sweep discoveries,
responsibility agreements.

On the same ``metadata`` as :mod:`registration.adapters.tables` (one migration history).
``properties.grid_id`` and ``employers.grid_id`` are not foreign keys to ``grids``: both
were registered before the grid registry existed (see the hook in the README).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    String,
    Table,
    text,
)

from common.db import UtcDateTime
from registration.adapters import employment_tables  # noqa: F401  (agreements refer to employers)
from registration.adapters.tables import metadata

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

agreements = Table(
    "agreements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("subject_key", String(200), nullable=False),
    Column("signatory_party_id", String(100), nullable=False, index=True),
    Column("counterpart_office", String(200), nullable=False),
    Column("property_id", String(36), nullable=True),
    Column("employer_id", String(36), nullable=True),
    Column("grid_id", String(50), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("supersedes", String(36), nullable=True),
    Column("superseded_by", String(36), nullable=True),
    Column("revoked_reason", String(500), nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("status_changed_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(["property_id"], ["properties.id"]),
    ForeignKeyConstraint(["employer_id"], ["employers.id"]),
    CheckConstraint("(property_id IS NULL) <> (employer_id IS NULL)", name="one_subject"),
    # At most one active agreement per subject, whatever the races.
    Index(
        "uq_agreements_active_subject",
        "subject_key",
        unique=True,
        postgresql_where=text("status = 'active'"),
        sqlite_where=text("status = 'active'"),
    ),
    # "Without a valid agreement" (active ones, and the last one of any status) and the
    # base figures look agreements up by property, by employer and by grid.
    Index("ix_agreements_property", "property_id", "kind", "status"),
    Index("ix_agreements_employer", "employer_id", "status"),
    Index("ix_agreements_grid_status", "grid_id", "status", "kind"),
)
