"""Shared fixtures: the registration service in-process, on SQLite, with an in-memory broker.

``registration`` builds the real app (``registration.main.service.create_app``) over a
migrated SQLite file, patches its broker with FastStream's ``TestKafkaBroker``, runs the app's
lifespan (so the outbox relay and the consumers run as in production) and drives the
HTTP API through ``httpx.ASGITransport``. Test subscribers on ``registration.events`` and
``registration.events.dlq`` record every message the broker carries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _registration_helpers import (
    DLQ,
    FINDINGS_DLQ,
    JWT_SECRET,
    NOW,
    PERSONS_TOPIC,
    PII_HASH_KEY,
    PII_KEY,
    TOPIC,
    Registration,
)
from sqlalchemy import create_engine

from common.clock import FakeClock
from common.testing import migrated_sqlite, run_service, sqlite_copy
from registration.adapters.places_tables import grids
from registration.main import service
from registration.settings import RegistrationSettings


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test works on a copy."""
    return migrated_sqlite(service, tmp_path_factory.mktemp("registration-template"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    """Extra settings of the service under test; a test module may override this fixture."""
    return {}


@pytest.fixture
def registered_grids() -> tuple[str, ...]:
    """Grids on record before the test (properties and employers need one); a module that
    registers its own grids overrides this fixture."""
    return ("G1", "G2", "G9")


def insert_grids(url: str, grid_ids: tuple[str, ...]) -> None:
    engine = create_engine(url.replace("+aiosqlite", ""))
    with engine.begin() as connection:
        for grid_id in grid_ids:
            connection.execute(
                grids.insert().values(
                    id=grid_id,
                    name=f"Grid {grid_id}",
                    community="Wentang",
                    grid_worker=None,
                    registered_by="test-setup",
                    registered_at=NOW,
                )
            )
    engine.dispose()


@pytest.fixture
async def registration(
    migrated_database: Path,
    tmp_path: Path,
    clock: FakeClock,
    registration_settings: dict[str, Any],
    registered_grids: tuple[str, ...],
) -> AsyncIterator[Registration]:
    database_url = sqlite_copy(migrated_database, tmp_path, "reg.db")
    insert_grids(database_url, registered_grids)
    settings = RegistrationSettings(
        **{
            "database_url": database_url,
            "jwt_secret": JWT_SECRET,
            "pii_key": PII_KEY,
            "pii_hash_key": PII_HASH_KEY,
            "run_relay": True,
            "consumer_max_attempts": 2,
            "consumer_backoff_s": 0,
            **registration_settings,
        }
    )
    record = (TOPIC, DLQ, PERSONS_TOPIC, FINDINGS_DLQ)
    async with run_service(service, settings, clock=clock, record=record) as running:
        yield Registration(
            app=running.app,
            client=running.client,
            db_path=tmp_path / "reg.db",
            published=running.records[TOPIC],
            dead_letters=running.records[DLQ],
            restricted=running.records[PERSONS_TOPIC],
            finding_dead_letters=running.records[FINDINGS_DLQ],
        )
