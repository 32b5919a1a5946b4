"""The migrations build exactly the declared tables (and this module shares its name
with registration's: importlib mode lets both be collected)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from common.db import runtime_metadata
from noticeboard.tables import metadata


def test_migrated_schema_has_no_difference_from_the_declared_tables(template: Path) -> None:
    engine = create_engine(f"sqlite:///{template}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, [metadata, runtime_metadata])  # type: ignore[arg-type]
    finally:
        engine.dispose()
    assert differences == [], "\n".join(map(str, differences))
