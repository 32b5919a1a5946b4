"""The runtime's database helpers: outbox, inbox, durable timers, idempotency keys.

Each test gets a fresh SQLite file with the runtime tables (and a small ``ledger`` table
that handlers write to, so effects are visible as rows).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from aiokafka import ConsumerRecord
from fastapi import HTTPException
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common import outbox as outbox_mod
from common import timers as timers_mod
from common.auth import Principal
from common.clock import FakeClock
from common.db import (
    ConcurrentWrite,
    idempotency_keys,
    inbox,
    make_engine,
    make_sessionmaker,
    outbox,
    runtime_metadata,
    timers,
)
from common.envelope import Envelope
from common.events import Event
from common.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    fingerprint,
    idempotency_key,
    run_idempotent,
)
from common.inbox import Inbox, PoisonMessage, publish_dead_letter, retrying
from common.outbox import WAKE, OutboxRelay
from common.timers import TimerWorker

START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

test_metadata = MetaData()
ledger = Table(
    "ledger",
    test_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry", String(200), nullable=False),
)


class OrderPlaced(Event):
    name: ClassVar[str] = "runtimetest.OrderPlaced"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "runtimetest.events"

    order_id: str
    amount: int

    def subject(self) -> str:
        return self.order_id


class OrderPlacedV2(Event):
    name: ClassVar[str] = "runtimetest.OrderPlaced"
    version: ClassVar[int] = 2
    topic: ClassVar[str] = "runtimetest.events"

    order_id: str

    def subject(self) -> str:
        return self.order_id


class OrderShipped(Event):
    name: ClassVar[str] = "runtimetest.OrderShipped"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "runtimetest.events"

    order_id: str

    def subject(self) -> str:
        return self.order_id


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'runtime.db'}")
    async with eng.begin() as conn:
        await conn.run_sync(runtime_metadata.create_all)
        await conn.run_sync(test_metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _rows(sessions: async_sessionmaker[AsyncSession], table: Table) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(select(table).order_by(*table.primary_key))).all())


async def _stage(
    sessions: async_sessionmaker[AsyncSession], *events: Event, now: datetime = START
) -> list[Envelope]:
    async with sessions() as session, session.begin():
        return [
            await outbox_mod.stage(
                session, e, source="/services/runtimetest", now=now, correlation_id="corr-1"
            )
            for e in events
        ]


# --------------------------------------------------------------------------- outbox


async def test_stage_writes_an_outbox_row_with_cloudevents_headers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event = OrderPlaced(order_id="o-1", amount=5)

    (envelope,) = await _stage(sessions, event)

    (row,) = await _rows(sessions, outbox)
    headers = dict(row.headers)
    assert row.event_id == envelope.id
    assert row.topic == "runtimetest.events"
    assert row.key == "o-1"
    assert row.ce_type == "runtimetest.OrderPlaced.v1"
    assert OrderPlaced.model_validate_json(row.payload) == event
    assert row.sent_at is None and row.attempts == 0
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_id"] == envelope.id
    assert headers["ce_type"] == "runtimetest.OrderPlaced.v1"
    assert headers["ce_source"] == "/services/runtimetest"
    assert headers["ce_subject"] == "o-1"
    assert headers["ce_correlationid"] == "corr-1"
    assert headers["content-type"] == "application/json"
    assert datetime.fromisoformat(headers["ce_time"]) == START
    assert headers["traceparent"].startswith("00-")
    read_back = Envelope.from_headers(row.headers)
    assert (read_back.id, read_back.type, read_back.subject, read_back.time) == (
        envelope.id,
        envelope.type,
        envelope.subject,
        envelope.time,
    )


async def test_stage_can_target_another_topic(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await outbox_mod.stage(
            session,
            OrderShipped(order_id="o-2"),
            source="/s",
            now=START,
            topic="runtimetest.replay",
        )

    (row,) = await _rows(sessions, outbox)
    assert row.topic == "runtimetest.replay"


async def test_staged_rows_are_rolled_back_with_the_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await outbox_mod.stage(session, OrderShipped(order_id="o-3"), source="/s", now=START)
            raise RuntimeError("state change failed")

    assert await _rows(sessions, outbox) == []


async def test_commit_with_staged_events_wakes_the_relay_and_a_rollback_does_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    wakes: list[str] = []
    sessions.configure(info={WAKE: lambda: wakes.append("wake")})

    async with sessions() as session, session.begin():
        await session.execute(insert(ledger).values(entry="no events"))
    assert wakes == []

    async with sessions() as session:
        async with session.begin():
            await outbox_mod.stage(session, OrderShipped(order_id="o-4"), source="/s", now=START)
            await session.rollback()
        async with session.begin():
            await session.execute(insert(ledger).values(entry="after rollback"))
    assert wakes == []

    await _stage(sessions, OrderShipped(order_id="o-5"))
    assert wakes == ["wake"]


class RecordingSend:
    """A producer stand-in: records what was sent, acks at once or fails as told."""

    def __init__(self, *, fail_on_call: int | None = None, fail_ack: bool = False) -> None:
        self.sent: list[tuple[str, bytes, bytes, dict[str, bytes]]] = []
        self._fail_on_call = fail_on_call
        self._fail_ack = fail_ack
        self.arrived = asyncio.Event()

    async def __call__(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Awaitable[object]:
        if self._fail_on_call is not None and len(self.sent) + 1 == self._fail_on_call:
            raise ConnectionError("broker unreachable")
        self.sent.append((topic, key, value, dict(headers)))
        self.arrived.set()
        ack: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        if self._fail_ack:
            ack.set_exception(ConnectionError("not acknowledged"))
        else:
            ack.set_result(None)
        return ack


def _seal(payload: bytes) -> bytes:
    return payload[::-1]  # a stand-in for encryption: not JSON, reversible


async def test_a_sealed_event_is_unreadable_at_rest_and_sent_in_clear(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    event = OrderPlaced(order_id="o-secret", amount=7)
    async with sessions() as session, session.begin():
        await outbox_mod.stage(session, event, source="/s", now=START, seal=_seal)
    send = RecordingSend()
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock, unseal=_seal)

    (row,) = await _rows(sessions, outbox)
    assert row.payload.startswith(outbox_mod.SEALED_PREFIX)
    assert b"o-secret" not in row.payload
    assert await relay.publish_pending() == 1

    assert OrderPlaced.model_validate_json(send.sent[0][2]) == event


async def test_a_relay_that_cannot_unseal_keeps_the_row_and_sends_nothing(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions() as session, session.begin():
        await outbox_mod.stage(
            session, OrderShipped(order_id="o-9"), source="/s", now=START, seal=_seal
        )
    send = RecordingSend()
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock)

    with pytest.raises(RuntimeError, match="no unseal"):
        await relay.publish_pending()

    assert send.sent == []
    (row,) = await _rows(sessions, outbox)
    assert (row.sent_at, row.attempts) == (None, 1)


async def test_relay_publishes_pending_rows_in_id_order_and_marks_them_sent(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    envelopes = await _stage(
        sessions,
        OrderPlaced(order_id="o-1", amount=1),
        OrderShipped(order_id="o-1"),
        OrderPlaced(order_id="o-2", amount=2),
    )
    send = RecordingSend()
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock)
    clock.advance(timedelta(seconds=3))

    published = await relay.publish_pending()

    assert published == 3
    assert [(t, k, h["ce_id"].decode()) for t, k, _v, h in send.sent] == [
        ("runtimetest.events", b"o-1", envelopes[0].id),
        ("runtimetest.events", b"o-1", envelopes[1].id),
        ("runtimetest.events", b"o-2", envelopes[2].id),
    ]
    assert send.sent[0][3]["ce_type"] == b"runtimetest.OrderPlaced.v1"
    assert OrderPlaced.model_validate_json(send.sent[2][2]) == OrderPlaced(order_id="o-2", amount=2)
    rows = await _rows(sessions, outbox)
    assert all(r.sent_at is not None for r in rows)
    assert {r.sent_at.replace(tzinfo=UTC) for r in rows} == {clock.now()}


async def test_relay_does_not_publish_a_sent_row_again(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _stage(sessions, OrderShipped(order_id="o-1"))
    send = RecordingSend()
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock)

    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0
    await _stage(sessions, OrderShipped(order_id="o-2"))
    assert await relay.publish_pending() == 1

    assert [k for _t, k, _v, _h in send.sent] == [b"o-1", b"o-2"]


async def test_relay_publishes_at_most_a_batch_at_a_time(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _stage(sessions, *(OrderShipped(order_id=f"o-{i}") for i in range(5)))
    send = RecordingSend()
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock, batch_size=2)

    assert [await relay.publish_pending() for _ in range(4)] == [2, 2, 1, 0]
    assert [k for _t, k, _v, _h in send.sent] == [f"o-{i}".encode() for i in range(5)]


@pytest.mark.parametrize(
    "send",
    [RecordingSend(fail_on_call=2), RecordingSend(fail_ack=True)],
    ids=["enqueue-fails", "ack-fails"],
)
async def test_failed_send_leaves_rows_pending_with_attempts_and_error(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, send: RecordingSend
) -> None:
    await _stage(sessions, OrderShipped(order_id="o-1"), OrderShipped(order_id="o-2"))
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock)

    with pytest.raises(ConnectionError):
        await relay.publish_pending()

    rows = await _rows(sessions, outbox)
    assert [(r.sent_at, r.attempts) for r in rows] == [(None, 1), (None, 1)]
    assert all(r.last_error in ("broker unreachable", "not acknowledged") for r in rows)


async def test_rows_left_by_a_failed_send_are_published_by_the_next_attempt(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _stage(sessions, OrderShipped(order_id="o-1"), OrderShipped(order_id="o-2"))
    with pytest.raises(ConnectionError):
        await OutboxRelay(
            sessions, RecordingSend(fail_on_call=1), postgres=False, clock=clock
        ).publish_pending()

    send = RecordingSend()
    assert await OutboxRelay(sessions, send, postgres=False, clock=clock).publish_pending() == 2

    assert [k for _t, k, _v, _h in send.sent] == [b"o-1", b"o-2"]
    rows = await _rows(sessions, outbox)
    assert [(r.attempts, r.sent_at is not None) for r in rows] == [(1, True), (1, True)]


async def test_idle_relay_purges_sent_rows_older_than_the_retention(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _stage(sessions, OrderShipped(order_id="old"))
    relay = OutboxRelay(
        sessions, RecordingSend(), postgres=False, clock=clock, retention=timedelta(hours=1)
    )
    await relay.publish_pending()
    clock.advance(timedelta(minutes=90))
    await _stage(sessions, OrderShipped(order_id="pending"), now=clock.now())

    await relay.publish_pending()  # publishes "pending": not idle, nothing purged
    assert [r.key for r in await _rows(sessions, outbox)] == ["old", "pending"]
    await relay.publish_pending()  # idle: purges "old" (sent 90 min ago), keeps "pending"

    assert [r.key for r in await _rows(sessions, outbox)] == ["pending"]


async def test_relay_run_publishes_after_a_wake_and_stops(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    send = RecordingSend()
    relay = OutboxRelay(sessions, send, postgres=False, clock=clock, poll_interval_s=30)
    sessions.configure(info={WAKE: relay.wake})
    task = asyncio.create_task(relay.run())
    try:
        await _stage(sessions, OrderShipped(order_id="o-1"))
        await asyncio.wait_for(send.arrived.wait(), 5)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 5)

    assert [k for _t, k, _v, _h in send.sent] == [b"o-1"]


async def test_a_woken_relay_lingers_so_commits_right_behind_join_the_batch(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    send = RecordingSend()
    relay = OutboxRelay(
        sessions, send, postgres=False, clock=clock, poll_interval_s=30, linger_s=0.3
    )
    cycles: list[int] = []
    publish = relay.publish_pending

    async def counted() -> int:
        cycles.append(n := await publish())
        return n

    relay.publish_pending = counted  # type: ignore[method-assign]
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.05)  # the first, empty cycle; the relay now waits
        sessions.configure(info={WAKE: relay.wake})
        await _stage(sessions, OrderShipped(order_id="o-1"))
        await asyncio.sleep(0.05)  # the relay is awake: without a linger it sends o-1 now
        await _stage(sessions, OrderShipped(order_id="o-2"))
        await asyncio.wait_for(send.arrived.wait(), 5)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 5)

    assert [k for _t, k, _v, _h in send.sent] == [b"o-1", b"o-2"]
    assert [n for n in cycles if n] == [2]


# --------------------------------------------------------------------------- inbox


def _headers(event: Event, *, ce_id: str = "evt-1", ce_type: str | None = None) -> dict:
    return {
        "ce_specversion": "1.0",
        "ce_id": ce_id,
        "ce_type": ce_type or event.ce_type(),
        "ce_source": "/services/runtimetest",
        "ce_subject": event.subject(),
        "ce_time": START.isoformat(),
    }


async def _record_order(session: AsyncSession, event: Any, envelope: Envelope) -> None:
    await session.execute(insert(ledger).values(entry=f"{envelope.id}:{event.order_id}"))


@pytest.fixture
def orders_inbox(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> Inbox:
    return Inbox("orders-projection", sessions, {OrderPlaced: _record_order}, clock=clock)


async def test_inbox_applies_an_event_once_and_reports_the_redelivery_as_duplicate(
    orders_inbox: Inbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event = OrderPlaced(order_id="o-1", amount=3)

    first = await orders_inbox.handle(_headers(event), event.to_json())
    second = await orders_inbox.handle(_headers(event), event.to_json())

    assert (first, second) == ("applied", "duplicate")
    assert [r.entry for r in await _rows(sessions, ledger)] == ["evt-1:o-1"]
    (seen,) = await _rows(sessions, inbox)
    assert (seen.consumer, seen.event_id, seen.ce_type) == (
        "orders-projection",
        "evt-1",
        "runtimetest.OrderPlaced.v1",
    )


async def test_inbox_applies_distinct_events_and_consumers_independently(
    orders_inbox: Inbox, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    event = OrderPlaced(order_id="o-1", amount=3)
    other_consumer = Inbox("orders-audit", sessions, {OrderPlaced: _record_order}, clock=clock)

    outcomes = [
        await orders_inbox.handle(_headers(event, ce_id="evt-1"), event.to_json()),
        await orders_inbox.handle(_headers(event, ce_id="evt-2"), event.to_json()),
        await other_consumer.handle(_headers(event, ce_id="evt-1"), event.to_json()),
    ]

    assert outcomes == ["applied", "applied", "applied"]
    assert len(await _rows(sessions, ledger)) == 3


async def test_a_failing_handler_leaves_no_trace_so_a_redelivery_applies_it(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    calls = {"n": 0}

    async def flaky(session: AsyncSession, event: Any, envelope: Envelope) -> None:
        calls["n"] += 1
        await _record_order(session, event, envelope)
        if calls["n"] == 1:
            raise RuntimeError("database hiccup")

    flaky_inbox = Inbox("flaky", sessions, {OrderPlaced: flaky}, clock=clock)
    event = OrderPlaced(order_id="o-1", amount=3)

    with pytest.raises(RuntimeError):
        await flaky_inbox.handle(_headers(event), event.to_json())
    assert await _rows(sessions, inbox) == []
    assert await _rows(sessions, ledger) == []

    assert await flaky_inbox.handle(_headers(event), event.to_json()) == "applied"
    assert len(await _rows(sessions, ledger)) == 1


async def test_a_registered_event_the_consumer_does_not_handle_is_ignored(
    orders_inbox: Inbox, sessions: async_sessionmaker[AsyncSession]
) -> None:
    event = OrderShipped(order_id="o-1")

    assert await orders_inbox.handle(_headers(event), event.to_json()) == "ignored"
    assert await _rows(sessions, ledger) == []
    assert await _rows(sessions, inbox) == []


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ({}, b"{}", "missing CloudEvents headers"),
        (_headers(OrderShipped(order_id="x"), ce_type="not a type"), b"{}", "malformed ce_type"),
        (
            _headers(OrderShipped(order_id="x"), ce_type="runtimetest.OrderPlaced.v9"),
            b"{}",
            "unknown event type or version",
        ),
        (
            _headers(OrderShipped(order_id="x"), ce_type="runtimetest.Unheard.v1"),
            b"{}",
            "unknown event type or version",
        ),
        (
            _headers(OrderPlaced(order_id="x", amount=1)),
            b'{"order_id": "x", "amount": "lots"}',
            "body invalid",
        ),
        (_headers(OrderPlaced(order_id="x", amount=1)), b"not json", "body invalid"),
        (
            _headers(OrderPlacedV2(order_id="x")),
            OrderPlacedV2(order_id="x").to_json(),
            "no handler for runtimetest.OrderPlaced.v2",
        ),
    ],
    ids=[
        "no-headers",
        "malformed-type",
        "unknown-version",
        "unknown-type",
        "invalid-body",
        "not-json",
        "unhandled-version-of-handled-event",
    ],
)
async def test_messages_that_can_never_be_handled_are_poison(
    orders_inbox: Inbox,
    sessions: async_sessionmaker[AsyncSession],
    headers: dict,
    body: bytes,
    reason: str,
) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        await orders_inbox.handle(headers, body)

    assert await _rows(sessions, inbox) == []
    assert await _rows(sessions, ledger) == []


# --------------------------------------------------------------------------- dead letters


def _record(headers: list[tuple[str, bytes]]) -> ConsumerRecord:
    return ConsumerRecord(
        topic="runtimetest.events",
        partition=3,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"o-1",
        value=b'{"order_id": "o-1"}',
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=19,
        headers=headers,
    )


async def _consume(
    handler: Any, *, max_attempts: int = 3, headers: list | None = None
) -> tuple[Any, RecordingSend]:
    send = RecordingSend()

    async def dead_letter(record: Any, exc: BaseException, attempts: int, consumer: str) -> None:
        await publish_dead_letter(send, record, exc, attempts, consumer)

    on_batch = retrying(
        "runtimetest.orders",
        handler,
        dead_letter=dead_letter,
        max_attempts=max_attempts,
        backoff_s=0,
    )
    msg = SimpleNamespace(raw_message=(_record(headers or [("ce_id", b"evt-1")]),))
    return await on_batch(None, msg), send  # type: ignore[arg-type]  # a KafkaMessage's shape


async def test_poison_message_goes_to_the_dlq_at_once_with_the_error_in_headers() -> None:
    calls: list[int] = []

    async def handler(_msg: Any) -> None:
        calls.append(1)
        raise PoisonMessage("unknown event type or version 'x.Y.v9'")

    result, send = await _consume(handler, headers=[("ce_id", b"evt-1"), ("dlq_error", b"old")])

    assert result is None
    assert len(calls) == 1
    ((topic, key, value, headers),) = send.sent
    assert (topic, key, value) == ("runtimetest.events.dlq", b"o-1", b'{"order_id": "o-1"}')
    assert headers == {
        "ce_id": b"evt-1",
        "dlq_error": b"unknown event type or version 'x.Y.v9'",
        "dlq_error_type": b"PoisonMessage",
        "dlq_original_topic": b"runtimetest.events",
        "dlq_original_partition": b"3",
        "dlq_original_offset": b"41",
        "dlq_attempts": b"1",
        "dlq_consumer": b"runtimetest.orders",
    }


async def test_transient_failure_is_retried_and_not_dead_lettered() -> None:
    calls: list[int] = []

    async def handler(_msg: Any) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("db restarting")
        return "done"

    result, send = await _consume(handler, max_attempts=3)

    assert result is None
    assert len(calls) == 3
    assert send.sent == []


async def test_failure_that_outlasts_the_retries_goes_to_the_dlq() -> None:
    calls: list[int] = []

    async def handler(_msg: Any) -> None:
        calls.append(1)
        raise RuntimeError("handler broke")

    result, send = await _consume(handler, max_attempts=2)

    assert result is None
    assert len(calls) == 2
    ((topic, _key, _value, headers),) = send.sent
    assert topic == "runtimetest.events.dlq"
    assert headers["dlq_error"] == b"handler broke"
    assert headers["dlq_error_type"] == b"RuntimeError"
    assert headers["dlq_attempts"] == b"2"


async def test_a_database_down_longer_than_the_retries_is_waited_for_not_dead_lettered() -> None:
    calls: list[int] = []

    async def handler(_msg: Any) -> None:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("db down")

    result, send = await _consume(handler, max_attempts=2)

    assert result is None
    assert len(calls) == 4
    assert send.sent == []


# --------------------------------------------------------------------------- timers


async def _schedule(
    sessions: async_sessionmaker[AsyncSession], kind: str, key: str, due_at: datetime
) -> None:
    async with sessions() as session, session.begin():
        await timers_mod.schedule(session, kind=kind, key=key, due_at=due_at, payload={"k": key})


async def _note_deadline(session: AsyncSession, key: str, payload: dict[str, Any]) -> None:
    await session.execute(insert(ledger).values(entry=f"deadline:{key}:{payload['k']}"))


async def test_timer_worker_fires_only_due_timers_exactly_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _schedule(sessions, "deadline", "due-earlier", START - timedelta(hours=1))
    await _schedule(sessions, "deadline", "due-now", START)
    await _schedule(sessions, "deadline", "due-tomorrow", START + timedelta(days=1))
    await _schedule(sessions, "other-kind", "not-ours", START - timedelta(hours=1))
    worker = TimerWorker(sessions, {"deadline": _note_deadline}, clock, postgres=False)

    assert await worker.fire_due() == 2
    assert await worker.fire_due() == 0

    assert [r.entry for r in await _rows(sessions, ledger)] == [
        "deadline:due-earlier:due-earlier",
        "deadline:due-now:due-now",
    ]
    done = {r.key: r.done_at for r in await _rows(sessions, timers)}
    assert done["due-earlier"] is not None and done["due-now"] is not None
    assert done["due-tomorrow"] is None and done["not-ours"] is None

    clock.advance(timedelta(days=1))
    assert await worker.fire_due() == 1
    assert [r.entry for r in await _rows(sessions, ledger)][
        -1
    ] == "deadline:due-tomorrow:due-tomorrow"


async def test_a_failing_timer_handler_leaves_the_timer_pending_with_the_error(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _schedule(sessions, "deadline", "k1", START)
    outcomes = iter([RuntimeError("notifier down"), None])

    async def flaky(session: AsyncSession, key: str, payload: dict[str, Any]) -> None:
        await _note_deadline(session, key, payload)
        if (exc := next(outcomes)) is not None:
            raise exc

    worker = TimerWorker(sessions, {"deadline": flaky}, clock, postgres=False)

    assert await worker.fire_due() == 0
    (row,) = await _rows(sessions, timers)
    assert (row.done_at, row.attempts, row.last_error) == (None, 1, "notifier down")
    assert await _rows(sessions, ledger) == []  # the handler's writes were rolled back

    assert await worker.fire_due() == 1
    (row,) = await _rows(sessions, timers)
    assert row.done_at is not None and row.attempts == 1
    assert len(await _rows(sessions, ledger)) == 1


async def test_a_timer_that_keeps_failing_stops_after_max_attempts(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _schedule(sessions, "deadline", "k1", START)

    async def broken(_session: AsyncSession, _key: str, _payload: dict[str, Any]) -> None:
        raise RuntimeError("always")

    worker = TimerWorker(sessions, {"deadline": broken}, clock, postgres=False, max_attempts=2)
    for _ in range(4):
        await worker.fire_due()

    (row,) = await _rows(sessions, timers)
    assert (row.done_at, row.attempts) == (None, 2)


async def test_rescheduling_moves_a_timer_and_cancel_stops_it(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _schedule(sessions, "deadline", "moved", START)
    await _schedule(sessions, "deadline", "moved", START + timedelta(days=2))
    await _schedule(sessions, "deadline", "cancelled", START)
    async with sessions() as session, session.begin():
        await timers_mod.cancel(session, kind="deadline", key="cancelled", now=START)
    worker = TimerWorker(sessions, {"deadline": _note_deadline}, clock, postgres=False)

    assert await worker.fire_due() == 0
    rows = {r.key: r for r in await _rows(sessions, timers)}
    assert len(rows) == 2
    assert rows["cancelled"].last_error == "cancelled"

    clock.advance(timedelta(days=2))
    assert await worker.fire_due() == 1
    assert [r.entry for r in await _rows(sessions, ledger)] == ["deadline:moved:moved"]


# --------------------------------------------------------------------------- idempotency


def _principal(sub: str = "landlord-1") -> Principal:
    return Principal(sub=sub, role="landlord")


async def _place_order(session: AsyncSession) -> tuple[int, Any]:
    await session.execute(insert(ledger).values(entry="order"))
    count = await session.scalar(select(func.count()).select_from(ledger))
    return 201, {"orders": count, "at": START}


async def _run(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    *,
    key: str = "key-1",
    body: Any = None,
    principal: Principal | None = None,
) -> Any:
    return await run_idempotent(
        sessions,
        principal=principal or _principal(),
        key=key,
        request_fingerprint=fingerprint("POST", "/orders", body or {"amount": 1}),
        clock=clock,
        action=_place_order,
    )


async def test_same_key_and_request_replays_the_stored_response_without_running_again(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    first = await _run(sessions, clock)
    replay = await _run(sessions, clock)

    assert first.status_code == replay.status_code == 201
    assert replay.body == first.body
    assert REPLAYED_HEADER.lower() not in first.headers
    assert replay.headers[REPLAYED_HEADER] == "true"
    assert len(await _rows(sessions, ledger)) == 1
    (stored,) = await _rows(sessions, idempotency_keys)
    assert (stored.principal, stored.key, stored.status_code) == ("landlord-1", "key-1", 201)
    assert stored.body == {"orders": 1, "at": "2026-03-04T10:00:00+00:00"}


async def test_same_key_with_a_different_request_is_refused_with_422(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _run(sessions, clock, body={"amount": 1})

    with pytest.raises(HTTPException) as refused:
        await _run(sessions, clock, body={"amount": 2})

    assert refused.value.status_code == 422
    assert refused.value.detail[0]["loc"] == ["header", HEADER]
    assert "different request" in refused.value.detail[0]["msg"]
    assert len(await _rows(sessions, ledger)) == 1


async def test_keys_are_scoped_to_the_principal(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _run(sessions, clock, principal=_principal("landlord-1"))
    other = await _run(sessions, clock, principal=_principal("landlord-2"))

    assert other.status_code == 201
    assert REPLAYED_HEADER.lower() not in other.headers
    assert len(await _rows(sessions, ledger)) == 2


async def test_a_failed_action_stores_no_key_so_a_retry_runs_it(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async def failing(session: AsyncSession) -> tuple[int, Any]:
        await session.execute(insert(ledger).values(entry="half-done"))
        raise ValueError("rule broken")

    with pytest.raises(ValueError):
        await run_idempotent(
            sessions,
            principal=_principal(),
            key="key-1",
            request_fingerprint=fingerprint("POST", "/orders", {"amount": 1}),
            clock=clock,
            action=failing,
        )

    assert await _rows(sessions, idempotency_keys) == []
    assert await _rows(sessions, ledger) == []
    assert (await _run(sessions, clock)).status_code == 201


async def test_a_command_that_lost_a_race_runs_again_from_the_start(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    runs = 0

    async def racing(session: AsyncSession) -> tuple[int, Any]:
        nonlocal runs
        runs += 1
        await session.execute(insert(ledger).values(entry=f"run {runs}"))
        if runs < 3:
            raise ConcurrentWrite("a row was created concurrently")
        return 201, {"runs": runs}

    response = await run_idempotent(
        sessions,
        principal=_principal(),
        key="key-1",
        request_fingerprint=fingerprint("POST", "/orders", {"amount": 1}),
        clock=clock,
        action=racing,
    )

    assert (response.status_code, runs) == (201, 3)
    assert [r.entry for r in await _rows(sessions, ledger)] == ["run 3"]


async def test_a_command_that_keeps_losing_races_is_409_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async def always_losing(session: AsyncSession) -> tuple[int, Any]:
        await session.execute(insert(ledger).values(entry="lost"))
        raise ConcurrentWrite("a row was created concurrently")

    with pytest.raises(HTTPException) as refused:
        await run_idempotent(
            sessions,
            principal=_principal(),
            key="key-1",
            request_fingerprint=fingerprint("POST", "/orders", {"amount": 1}),
            clock=clock,
            action=always_losing,
        )

    assert refused.value.status_code == 409
    assert "retry" in str(refused.value.detail)
    assert await _rows(sessions, ledger) == []
    assert await _rows(sessions, idempotency_keys) == []


def test_fingerprint_ignores_key_order_but_not_method_path_or_content() -> None:
    base = fingerprint("POST", "/orders", {"a": 1, "b": [1, 2]})

    assert fingerprint("POST", "/orders", {"b": [1, 2], "a": 1}) == base
    assert fingerprint("PUT", "/orders", {"a": 1, "b": [1, 2]}) != base
    assert fingerprint("POST", "/orders/2", {"a": 1, "b": [1, 2]}) != base
    assert fingerprint("POST", "/orders", {"a": 1, "b": [2, 1]}) != base


@pytest.mark.parametrize("header", [None, "", "   ", "k" * 201])
async def test_missing_blank_or_overlong_idempotency_key_is_422(header: str | None) -> None:
    with pytest.raises(HTTPException) as refused:
        await idempotency_key(header)

    assert refused.value.status_code == 422
    assert refused.value.detail[0]["loc"] == ["header", HEADER]


async def test_idempotency_key_is_trimmed() -> None:
    assert await idempotency_key("  abc-123 ") == "abc-123"
