"""Alembic wiring shared by the services' ``migrations/env.py``.

Each service keeps its own migration history in ``migrations/versions``; the runtime
tables (:data:`common.db.runtime_metadata`: outbox, inbox, timers, idempotency keys)
have theirs in :data:`RUNTIME_VERSIONS`, a branch labelled ``runtime`` that every
service's Alembic sees as a second version location. ``upgrade`` to ``heads`` brings
both up, so a change to a runtime table is one revision here, not one per service.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

MIGRATION_LOCK_ID = 0x0B0C_A1E3  # pg advisory lock key held while a service migrates
RUNTIME_VERSIONS = Path(__file__).parent / "runtime_migrations"
RUNTIME_BRANCH = "runtime"


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """The Alembic config of a service: its own versions and the runtime branch."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("path_separator", "os")
    locations = [migrations_dir / "versions", RUNTIME_VERSIONS]
    config.set_main_option("version_locations", os.pathsep.join(map(str, locations)))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, database_url: str, revision: str = "heads") -> None:
    """Run the service's migrations up to ``revision``."""
    command.upgrade(alembic_config(migrations_dir, database_url), revision)


def run_env(metadata: list[MetaData]) -> None:
    """The body of a service's ``env.py``: online migrations over an async engine."""
    config = context.config

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas starting together each run `migrate`: one migrates, the
                # others wait here until it commits, then find nothing left to do.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID}
                )
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())
