"""The base-figures read model: declarations per grid and month."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    String,
    Table,
)

from registration.adapters.metadata import metadata

# Read model fed by the registration.events consumer: the office's base figures.
grid_month_figures = Table(
    "grid_month_figures",
    metadata,
    Column("grid_id", String(50), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("declarations", Integer, nullable=False, default=0),
    Column("self_declared", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0),
    Column("over_capacity", Integer, nullable=False, default=0),
)
