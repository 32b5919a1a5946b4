"""Teams, cross-inspections (交叉檢查) and their assignments of teams to grids."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKeyConstraint, String, Table

from common.db import UtcDateTime
from inspection.adapters.metadata import metadata

teams = Table(
    "teams",
    metadata,
    Column("team_id", String(50), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("home_grids", JSON, nullable=False),
    Column("members", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

cross_inspections = Table(
    "cross_inspections",
    metadata,
    Column("cross_id", String(36), primary_key=True),
    Column("month", String(7), nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("circulated_at", UtcDateTime, nullable=True),
    Column("ranking", JSON, nullable=True),
)

cross_assignments = Table(
    "cross_assignments",
    metadata,
    Column("cross_id", String(36), primary_key=True),
    Column("grid_id", String(50), primary_key=True),
    Column("team_id", String(50), nullable=False),
    ForeignKeyConstraint(["cross_id"], ["cross_inspections.cross_id"], ondelete="CASCADE"),
    ForeignKeyConstraint(["team_id"], ["teams.team_id"]),
)
