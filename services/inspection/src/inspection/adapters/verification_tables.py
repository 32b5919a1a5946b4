"""Verification tasks: one per lead registration raised."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Index, String, Table

from common.db import UtcDateTime
from inspection.adapters.metadata import metadata

verification_tasks = Table(
    "verification_tasks",
    metadata,
    Column("lead_id", String, primary_key=True),
    Column("property_id", String, nullable=False),
    Column("grid_id", String, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("policy_version", String(50), nullable=False),
    Column("status", String(10), nullable=False),
    Column("escalated_at", UtcDateTime, nullable=True),
    Column("verification_id", String(36), nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("verified_by", String(200), nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("on_time", Boolean, nullable=True),
    Index("ix_verification_tasks_grid_status", "grid_id", "status", "due_on"),
)
