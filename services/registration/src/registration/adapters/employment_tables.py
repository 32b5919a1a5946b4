"""Employment tables: employers, their employments, monthly returns and roster uploads.

On the one ``metadata`` of :mod:`registration.adapters.metadata` (one migration history).
Persons are referred to by ``person_ref``; their personal data stays in ``persons``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

employers = Table(
    "employers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("credit_code", String(18), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("grid_id", String(50), nullable=False, index=True),
    Column("address", String(500), nullable=False),
    Column("channel", String(40), nullable=False),
    Column("registered_by", String(200), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

employments = Table(
    "employments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("employer_id", String(36), nullable=False),
    Column("person_ref", String(40), nullable=False, index=True),
    Column("hired_on", Date, nullable=False),
    Column("left_on", Date, nullable=True),
    Column("channel", String(40), nullable=False),
    Column("declared_by", String(200), nullable=False),
    Column("declared_at", UtcDateTime, nullable=False),
    Column("ended_by", String(200), nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("roster_upload_id", String(36), nullable=True),
    ForeignKeyConstraint(["employer_id"], ["employers.id"]),
    # A person is employed at most once at a time by one employer.
    Index(
        "uq_employments_active",
        "employer_id",
        "person_ref",
        unique=True,
        postgresql_where=text("left_on IS NULL"),
        sqlite_where=text("left_on IS NULL"),
    ),
    Index("ix_employments_employer_hired", "employer_id", "hired_on"),
)

# Every filing is kept: an amendment is a new version of the same month.
employer_returns = Table(
    "employer_returns",
    metadata,
    Column("employer_id", String(36), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("headcount", Integer, nullable=False),
    Column("hires", Integer, nullable=False),
    Column("leavers", Integer, nullable=False),
    Column("recorded_headcount", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("on_time", Boolean, nullable=False),
    Column("channel", String(40), nullable=False),
    Column("filed_by", String(200), nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["employer_id"], ["employers.id"]),
)

# One row per distinct roster file an employer uploaded: the same content is not applied
# twice, whatever its Idempotency-Key. ``report`` is the per-line result (no personal data).
roster_uploads = Table(
    "roster_uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("employer_id", String(36), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("applied", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    ForeignKeyConstraint(["employer_id"], ["employers.id"]),
    UniqueConstraint("employer_id", "content_sha256", name="uq_roster_uploads_content"),
)
