"""Versions of the penalty schedule (effective-dated; a version is never edited)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, String, Table

from common.db import UtcDateTime
from penalties.adapters.metadata import metadata

schedules = Table(
    "schedules",
    metadata,
    Column("version", String(50), primary_key=True),
    Column("effective_from", Date, nullable=False, index=True),
    Column("effective_to", Date, nullable=True),
    Column("review_by", Date, nullable=False),
    Column("document", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("ended_by", String(200), nullable=True),
)
