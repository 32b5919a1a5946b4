"""Responsibility agreements (責任書) of landlords, tenants and employers."""

from __future__ import annotations

from sqlalchemy import (
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
from registration.adapters.metadata import metadata

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
