"""Who is responsible for what, from registration's public events: each property's
landlord and address, each employer's code, name and address (a notice's recipient)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from penalties.adapters.metadata import metadata

properties = Table(
    "properties",
    metadata,
    Column("property_id", String, primary_key=True),
    Column("landlord_id", String, nullable=False, index=True),
    Column("grid_id", String, nullable=False),
    Column("address", String, nullable=False),
)

employers = Table(
    "employers",
    metadata,
    Column("employer_id", String, primary_key=True),
    Column("credit_code", String(18), nullable=False, index=True),
    Column("name", String, nullable=False),
    Column("grid_id", String, nullable=False),
    Column("address", String, nullable=False),
)
