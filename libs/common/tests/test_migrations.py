"""The runtime tables are one Alembic branch, owned here and upgraded with every service.

Each test builds a small service's migrations folder in a temporary directory (its own
table, an ``env.py`` like a real service's) and migrates a real SQLite file with
:func:`common.migrations.upgrade`, the function a service's ``migrate`` command calls.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from alembic import command

from common import migrations
from common.migrations import RUNTIME_VERSIONS, alembic_config, upgrade

ENV = """
from sqlalchemy import Column, Integer, MetaData, Table

from common.db import runtime_metadata
from common.migrations import run_env

metadata = MetaData()
Table("shelves", metadata, Column("id", Integer, primary_key=True))
run_env([metadata, runtime_metadata])
"""

SERVICE_0001 = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("shelves", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("shelves")
"""

# A later change to a runtime table, as the kit would ship it: one revision, no service's.
RUNTIME_0002 = """
import sqlalchemy as sa
from alembic import op

revision = "runtime_0002"
down_revision = "runtime_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("trace_parent", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("trace_parent")
"""

RUNTIME_TABLES = {"outbox", "inbox", "timers", "idempotency_keys"}


@pytest.fixture
def service_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    (folder / "versions" / "0001_shelves.py").write_text(SERVICE_0001)
    return folder


def in_thread(fn: object, *args: object) -> None:
    """Alembic's env calls ``asyncio.run``: run it off the test's event loop."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows} - {"alembic_version"}


def versions(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {v for (v,) in connection.execute("SELECT version_num FROM alembic_version")}


def columns(db: Path, table: str) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def test_a_new_service_gets_the_runtime_tables_without_a_migration_of_its_own(
    service_migrations: Path, tmp_path: Path
) -> None:
    db = tmp_path / "svc.db"
    in_thread(upgrade, service_migrations, f"sqlite+aiosqlite:///{db}")

    assert tables(db) == {"shelves"} | RUNTIME_TABLES
    assert versions(db) == {"0001", "runtime_0001"}


def test_a_runtime_change_is_one_revision_that_reaches_a_service_already_at_head(
    service_migrations: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "svc.db"
    url = f"sqlite+aiosqlite:///{db}"
    in_thread(upgrade, service_migrations, url)
    assert "trace_parent" not in columns(db, "outbox")

    later = tmp_path / "runtime_versions"
    shutil.copytree(RUNTIME_VERSIONS, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "runtime_0002_trace_parent.py").write_text(RUNTIME_0002)
    monkeypatch.setattr(migrations, "RUNTIME_VERSIONS", later)
    in_thread(upgrade, service_migrations, url)

    assert "trace_parent" in columns(db, "outbox")
    assert versions(db) == {"0001", "runtime_0002"}


def test_downgrading_to_base_removes_the_service_and_the_runtime_tables(
    service_migrations: Path, tmp_path: Path
) -> None:
    db = tmp_path / "svc.db"
    url = f"sqlite+aiosqlite:///{db}"
    in_thread(upgrade, service_migrations, url)
    in_thread(command.downgrade, alembic_config(service_migrations, url), "base")

    assert tables(db) == set()
    assert versions(db) == set()
