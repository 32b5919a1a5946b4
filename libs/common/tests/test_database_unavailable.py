"""A database that is down or restarting: a 503 for a command, a wait for a consumer.

Nothing is wrong with the request or the record then, so neither a 500 with a traceback
nor a dead letter (which would lose the record's effect) is the right answer; the
integration tier restarts a real PostgreSQL under load (``tests/integration/test_faults.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from aiokafka import ConsumerRecord
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.clock import FakeClock
from common.db import is_database_unavailable, make_engine, make_sessionmaker, runtime_metadata
from common.envelope import Envelope
from common.events import Event
from common.http import install_error_handlers
from common.inbox import Inbox, retrying


class ParcelScanned(Event):
    name: ClassVar[str] = "unavailabletest.ParcelScanned"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "unavailabletest.events"

    parcel_id: str

    def subject(self) -> str:
        return self.parcel_id


def record(parcel: str, *, ce_id: str, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    event = ParcelScanned(parcel_id=parcel)
    headers = Envelope(type=event.ce_type(), source="/tests", subject=parcel, id=ce_id).headers()
    return ConsumerRecord(
        topic=ParcelScanned.topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=parcel.encode(),
        value=event.to_json(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=headers,
    )


class Dlq:
    def __init__(self) -> None:
        self.records: list[Any] = []

    async def __call__(self, rec: Any, exc: BaseException, attempts: int, consumer: str) -> None:
        self.records.append(rec)


class DriverError(Exception):
    """What a driver raises, with PostgreSQL's SQLSTATE."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def wrapped(orig: BaseException, *, invalidated: bool = False) -> DBAPIError:
    return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def chained() -> BaseException:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            raise RuntimeError("could not check out a connection") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (wrapped(Exception("connection is closed"), invalidated=True), True),
        (wrapped(DriverError("terminating connection", "57P01")), True),
        (wrapped(DriverError("the database system is starting up", "57P03")), True),
        (wrapped(DriverError("connection does not exist", "08003")), True),
        (chained(), True),
        (IntegrityError("INSERT", {}, DriverError("duplicate key", "23505")), False),
        (wrapped(DriverError("value too long", "22001")), False),
        (wrapped(Exception("database is locked")), False),
        (RuntimeError("handler broke"), False),
        (OSError(2, "No such file or directory"), False),
    ],
)
def test_what_counts_as_an_unreachable_database(exc: BaseException, unavailable: bool) -> None:
    assert is_database_unavailable(exc) is unavailable


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/command")
    async def command() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connection refused"),
        wrapped(DriverError("terminating connection", "57P01")),
    ],
)
async def test_a_command_without_its_database_is_a_503(exc: Exception) -> None:
    transport = httpx.ASGITransport(app=app_raising(exc))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/command")
    assert response.status_code == 503
    assert response.json() == {"detail": "database unavailable"}
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize(
    "exc", [wrapped(DriverError("value too long", "22001")), OSError(2, "No such file")]
)
async def test_any_other_database_error_is_still_a_500(exc: Exception) -> None:
    transport = httpx.ASGITransport(app=app_raising(exc), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/command")
    assert response.status_code == 500


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/unavailable.db")
    async with engine.begin() as conn:
        await conn.run_sync(runtime_metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


def consumed(consumer: str, outcome: str) -> float:
    labels = {"consumer": consumer, "outcome": outcome}
    return REGISTRY.get_sample_value("events_consumed_total", labels) or 0.0


async def test_a_consumer_waits_for_its_database_rather_than_dead_letter(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """More failures than ``max_attempts``, all of an unreachable database: applied once."""
    failures = {"left": 4}
    applied: list[str] = []

    async def apply(_session: AsyncSession, event: Any, _envelope: Envelope) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionRefusedError(111, "Connection refused")
        applied.append(event.parcel_id)

    dlq = Dlq()
    inbox = Inbox(
        "waits",
        sessions,
        {ParcelScanned: apply},
        clock=FakeClock(),
        dead_letter=dlq,
        max_attempts=2,
        backoff_s=0,
    )
    before = consumed("waits", "applied")

    outcome = await inbox.handle_batch([record(f"p{i}", ce_id=f"w{i}", offset=i) for i in range(3)])

    assert outcome == {"applied": 3}
    assert sorted(applied) == ["p0", "p1", "p2"]
    assert dlq.records == []
    # Records applied one by one after the failed batch are counted once, not twice.
    assert consumed("waits", "applied") - before == 3


async def test_a_plain_batch_handler_waits_for_its_database_too() -> None:
    failures = {"left": 3}
    handled: list[int] = []

    async def handle(records: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise wrapped(DriverError("the database system is shutting down", "57P03"))
        handled.append(len(records))

    dlq = Dlq()
    on_batch = retrying("plain", handle, dead_letter=dlq, max_attempts=1, backoff_s=0)

    class Message:
        raw_message = (record("p1", ce_id="x1"),)

    await on_batch(None, Message())  # type: ignore[arg-type]

    assert handled == [1]
    assert dlq.records == []
