"""Follow-ups: one per rectification order of penalties on a property."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Index, String, Table

from common.db import UtcDateTime
from inspection.adapters.metadata import metadata

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("order_id", String, primary_key=True),
    Column("case_id", String, nullable=False),
    Column("property_id", String, nullable=False),
    Column("grid_id", String, nullable=False),
    Column("breach", String, nullable=False),
    Column("item", String, nullable=True),
    Column("deadline", Date, nullable=False),
    Column("ordered_at", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("visit_id", String(36), nullable=True),
    Column("rectified", Boolean, nullable=True),
    Column("done_at", UtcDateTime, nullable=True),
    Index("ix_follow_ups_grid_status", "grid_id", "status", "deadline"),
    Index("ix_follow_ups_property", "property_id", "status"),
)
