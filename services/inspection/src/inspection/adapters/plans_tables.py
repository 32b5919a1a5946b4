"""Spot-check plans and their picks (with why each property was picked)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, Float, ForeignKeyConstraint, Integer, String, Table

from common.db import UtcDateTime
from inspection.adapters.metadata import metadata

plans = Table(
    "plans",
    metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("grid_id", String(50), nullable=False, index=True),
    Column("month", String(7), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("seed", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("candidates", Integer, nullable=False),
    Column("policy_version", String(50), nullable=False),
    Column("policy", JSON, nullable=False),
    Column("planned_by", String(200), nullable=False),
    Column("planned_at", UtcDateTime, nullable=False),
)

plan_picks = Table(
    "plan_picks",
    metadata,
    Column("plan_id", String(36), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("property_id", String, nullable=False),
    Column("risk", Float, nullable=False),
    Column("key", Float, nullable=False),
    Column("signals", JSON, nullable=False),
    Column("assigned_to", String(200), nullable=True),  # an officer's or grid worker's account
    Column("shift", String(10), nullable=True),  # day or evening (錯時工作制)
    ForeignKeyConstraint(["plan_id"], ["plans.plan_id"], ondelete="CASCADE"),
)
