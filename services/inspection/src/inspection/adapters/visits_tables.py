"""Visits, the occupants met (personal data encrypted, looked up by keyed hash) and the
hazard checks, each visit as its latest accepted version."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Table,
)

from common.db import UtcDateTime
from inspection.adapters.metadata import metadata

visits = Table(
    "visits",
    metadata,
    Column("visit_id", String(36), primary_key=True),
    Column("property_id", String, nullable=False, index=True),
    Column("grid_id", String, nullable=False, index=True),
    Column("plan_id", String(36), nullable=True),
    Column("sweep_id", String(36), nullable=True, index=True),
    Column("rooms_entered", JSON, nullable=False),
    Column("officer_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("completed", Boolean, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("notes_enc", LargeBinary, nullable=True),
    Column("evening", Boolean, nullable=False),
    Column("captured_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("policy_version", String(50), nullable=False),
)

visit_occupants = Table(
    "visit_occupants",
    metadata,
    Column("visit_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("room_no", String(50), nullable=False),
    Column("id_hash", String(64), nullable=False, index=True),
    Column("id_number_enc", LargeBinary, nullable=False),
    Column("name_enc", LargeBinary, nullable=False),
    Column("phone_enc", LargeBinary, nullable=True),
    Column("moved_in_on", Date, nullable=True),
    ForeignKeyConstraint(["visit_id"], ["visits.visit_id"], ondelete="CASCADE"),
)

visit_hazards = Table(
    "visit_hazards",
    metadata,
    Column("visit_id", String(36), primary_key=True),
    Column("item", String(50), primary_key=True),
    Column("passed", Boolean, nullable=False),
    Column("severity", String(10), nullable=True),
    Column("correct_by", Date, nullable=True),
    Column("note", String(500), nullable=True),
    ForeignKeyConstraint(["visit_id"], ["visits.visit_id"], ondelete="CASCADE"),
)
