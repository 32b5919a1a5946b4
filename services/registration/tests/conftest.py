"""Shared fixtures: the registration service in-process, on SQLite, with an in-memory broker.

``registration`` builds the real app (``registration.main.service.create_app``) over a
migrated SQLite file, patches its broker with FastStream's ``TestKafkaBroker``, runs the app's
lifespan (so the outbox relay and the consumers run as in production) and drives the
HTTP API through ``httpx.ASGITransport``. Test subscribers on ``registration.events`` and
``registration.events.dlq`` record every message the broker carries.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
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
    Record,
    Registration,
)
from faststream.kafka import KafkaMessage, TestKafkaBroker

from common.clock import FakeClock
from common.inbox import raw_body
from common.migrations import upgrade
from registration.main import service
from registration.settings import RegistrationSettings


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test works on a copy."""
    path = tmp_path_factory.mktemp("registration-template") / "reg.db"
    errors: list[BaseException] = []

    def migrate() -> None:  # Alembic's env calls asyncio.run: keep it off the test loop
        try:
            upgrade(service.migrations, f"sqlite+aiosqlite:///{path}")
        except BaseException as exc:  # re-raised in the fixture's thread
            errors.append(exc)

    thread = threading.Thread(target=migrate)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    """Extra settings of the service under test; a test module may override this fixture."""
    return {}


@pytest.fixture
async def registration(
    migrated_database: Path,
    tmp_path: Path,
    clock: FakeClock,
    registration_settings: dict[str, Any],
) -> AsyncIterator[Registration]:
    db_path = tmp_path / "reg.db"
    shutil.copyfile(migrated_database, db_path)
    settings = RegistrationSettings(
        **{
            "database_url": f"sqlite+aiosqlite:///{db_path}",
            "jwt_secret": JWT_SECRET,
            "pii_key": PII_KEY,
            "pii_hash_key": PII_HASH_KEY,
            "run_relay": True,
            "consumer_max_attempts": 2,
            "consumer_backoff_s": 0,
            **registration_settings,
        }
    )
    app = service.create_app(settings, clock=clock)
    runtime = app.state.runtime
    published: list[Record] = []
    dead_letters: list[Record] = []

    def recorder(sink: list[Record]) -> Any:
        async def record(body: bytes, msg: KafkaMessage) -> None:
            raw = msg.raw_message
            sink.append(
                Record(
                    topic=raw.topic,
                    key=raw.key,
                    headers={k: v.decode() for k, v in raw.headers},
                    body=body,
                )
            )

        return record

    runtime.broker.subscriber(TOPIC, group_id="test-recorder", decoder=raw_body)(
        recorder(published)
    )
    runtime.broker.subscriber(DLQ, group_id="test-dlq-recorder", decoder=raw_body)(
        recorder(dead_letters)
    )
    restricted: list[Record] = []
    finding_dead_letters: list[Record] = []
    runtime.broker.subscriber(PERSONS_TOPIC, group_id="test-restricted", decoder=raw_body)(
        recorder(restricted)
    )
    runtime.broker.subscriber(FINDINGS_DLQ, group_id="test-findings-dlq", decoder=raw_body)(
        recorder(finding_dead_letters)
    )

    async with (
        TestKafkaBroker(runtime.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://registration.test"
        ) as client,
    ):
        yield Registration(
            app=app,
            client=client,
            db_path=db_path,
            published=published,
            dead_letters=dead_letters,
            restricted=restricted,
            finding_dead_letters=finding_dead_letters,
        )
