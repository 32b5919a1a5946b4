"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from common.db import runtime_metadata
from registration.adapters import employment_tables, places_tables, reconciliation_tables
from registration.adapters.tables import metadata

assert employment_tables and places_tables and reconciliation_tables  # their tables join metadata


def test_migrated_schema_has_no_difference_from_the_declared_tables(
    migrated_database: Path,
) -> None:
    engine = create_engine(f"sqlite:///{migrated_database}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, [metadata, runtime_metadata])  # type: ignore[arg-type]
    finally:
        engine.dispose()

    assert differences == [], "\n".join(map(str, differences))
