"""Sweeps and the unregistered buildings they found."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Integer, String, Table

from common.db import UtcDateTime
from inspection.adapters.metadata import metadata

sweeps = Table(
    "sweeps",
    metadata,
    Column("sweep_id", String(36), primary_key=True),
    Column("grid_ids", JSON, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("team", JSON, nullable=False),
    Column("volunteers", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("summary", JSON, nullable=True),
)

sweep_discoveries = Table(
    "sweep_discoveries",
    metadata,
    Column("discovery_id", String(36), primary_key=True),
    Column("sweep_id", String(36), nullable=False, index=True),
    Column("grid_id", String(50), nullable=False),
    Column("address", String(500), nullable=False),
    Column("rooms", JSON, nullable=False),
    Column("landlord_hint", String(100), nullable=True),
    Column("officer", String(200), nullable=False),
    Column("discovered_at", UtcDateTime, nullable=False),
)
