"""Test scaffolding for any service built on the kit (``common.service``).

A service's ``tests/conftest.py`` needs only a few lines::

    @pytest.fixture(scope="session")
    def migrated_database(tmp_path_factory):
        return migrated_sqlite(service, tmp_path_factory.mktemp("template"))

    @pytest.fixture
    async def app(migrated_database, tmp_path):
        settings = MySettings(database_url=sqlite_copy(migrated_database, tmp_path), ...)
        async with run_service(service, settings, clock=FakeClock(NOW),
                               record=("my.events",)) as running:
            yield running

:func:`run_service` builds the real app, swaps its broker for FastStream's in-memory
``TestKafkaBroker``, runs its lifespan (the outbox relay, the consumers and the timers
run as in production) and drives the HTTP API through ``httpx.ASGITransport``; every
message on the ``record`` topics is kept in :attr:`Running.records`. Tokens are minted
with :func:`common.auth.mint_token`, time is a :class:`common.clock.FakeClock`.

Nothing here is imported by a service at run time.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaMessage, TestKafkaBroker
from sqlalchemy import MetaData, create_engine, func, select

from common.clock import Clock
from common.db import outbox
from common.envelope import Envelope
from common.events import Event
from common.inbox import raw_body
from common.migrations import upgrade
from common.runtime import Runtime
from common.service import Service
from common.settings import ServiceSettings

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


@dataclass(frozen=True)
class Record:
    """One message as a consumer of its topic sees it."""

    topic: str
    key: bytes
    headers: dict[str, str]
    body: bytes


def migrated_sqlite(service: Service[Any], folder: Path, name: str = "template.db") -> Path:
    """A SQLite file in ``folder`` migrated to the service's heads (once per session).

    Alembic's env calls ``asyncio.run``, so it runs in a thread of its own, off the
    test's event loop.
    """
    path = folder / name
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(service.migrations, f"sqlite+aiosqlite:///{path}")
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=migrate)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return path


def sqlite_copy(template: Path, folder: Path, name: str = "service.db") -> str:
    """The database URL of a fresh copy of ``template`` (a test's own database)."""
    path = folder / name
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


def record_topics(runtime: Runtime, topics: Iterable[str]) -> dict[str, list[Record]]:
    """Subscribe a recorder to each topic (before the broker starts); their records."""
    records: dict[str, list[Record]] = {}
    for topic in topics:
        runtime.broker.subscriber(topic, group_id=f"test-recorder:{topic}", decoder=raw_body)(
            _recorder(records.setdefault(topic, []))
        )
    return records


def _recorder(sink: list[Record]) -> Callable[[bytes, KafkaMessage], Awaitable[None]]:
    # A closure, not a default argument: FastStream reads every parameter of a handler
    # as a field of the message.
    async def record(body: bytes, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        assert not isinstance(raw, tuple)  # one record: the recorder is not a batch subscriber
        headers = {k: v.decode() for k, v in raw.headers}
        sink.append(Record(topic=raw.topic, key=raw.key, headers=headers, body=body))

    return record


@dataclass
class Running:
    """A service app running in-process for a test."""

    app: FastAPI
    client: httpx.AsyncClient
    records: dict[str, list[Record]] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def deliver(self, event: Event, *, ce_id: str | None = None) -> Envelope:
        """Publish ``event`` as its producer would (CloudEvents headers, keyed by its
        subject); the in-memory broker runs the subscribers before this returns."""
        context = event.name.split(".")[0]
        envelope = Envelope(
            type=event.ce_type(),
            source=f"/services/{context}",
            subject=event.subject(),
            time=self.runtime.clock.now(),
            **({"id": ce_id} if ce_id is not None else {}),
        )
        await self.runtime.broker.publish(
            event.to_json(),
            event.topic,
            key=event.subject().encode(),
            headers={k: v.decode() for k, v in envelope.headers()},
        )
        return envelope

    async def drain(self, timeout_s: float = 30.0) -> None:
        await drain(self.runtime, timeout_s)


async def drain(runtime: Runtime, timeout_s: float = 30.0) -> None:
    """Wait until the relay has published every outbox row (a bound, not a budget: on a
    loaded two-core machine a retried, dead-lettered event took over 5 s)."""
    async with asyncio.timeout(timeout_s):
        while True:
            async with runtime.sessionmaker() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                )
            if not pending:
                return
            await asyncio.sleep(0.01)


def schema_differences(database: Path, metadata: Sequence[MetaData]) -> list[Any]:
    """What Alembic's autogenerate finds between a migrated SQLite file and the declared
    tables (empty: the migrations build exactly what the code declares)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, list(metadata)))  # type: ignore[arg-type]
    finally:
        engine.dispose()


@asynccontextmanager
async def run_service(
    service: Service[Any],
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    record: Iterable[str] = (),
) -> AsyncIterator[Running]:
    """The service's real app on an in-memory broker, its lifespan running."""
    import httpx

    app = service.create_app(settings, clock=clock)
    records = record_topics(app.state.runtime, record)
    async with (
        TestKafkaBroker(app.state.runtime.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{service.name}.test"
        ) as client,
    ):
        yield Running(app=app, client=client, records=records)
