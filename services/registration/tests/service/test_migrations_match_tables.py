"""The Alembic migrations build exactly the tables the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from common.db import runtime_metadata
from common.migrations import alembic_config
from common.testing import schema_differences
from registration.adapters.metadata import all_tables
from registration.main import service


def test_migrated_schema_has_no_difference_from_the_declared_tables(
    migrated_database: Path,
) -> None:
    differences = schema_differences(migrated_database, [all_tables(), runtime_metadata])
    assert differences == [], "\n".join(map(str, differences))


def test_a_migrated_database_records_only_registrations_head(migrated_database: Path) -> None:
    # The runtime tables moved from revision 0001 to common's "runtime" branch, which
    # 0001 now depends on: a database migrated before the move (its one row: the head
    # of registration's history) is indistinguishable from one migrated after it.
    engine = create_engine(f"sqlite:///{migrated_database}")
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(service.migrations, "sqlite://"))
    own_heads = {h for h in script.get_heads() if not h.startswith("runtime_")}

    assert set(heads) == own_heads
    assert "runtime_0001" in {r.revision for r in script.iterate_revisions(heads, "base")}
