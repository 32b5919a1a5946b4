"""Idempotent consumers (inbox) and dead-letter routing.

A consumer's handler runs in a database transaction that also records the event's
``ce_id`` in the inbox table; an event seen before is skipped. FastStream's subscriber
commits the Kafka offset only after the handler returned (``AckPolicy.NACK_ON_ERROR``),
i.e. after the database commit. A failing message is retried a bounded number of times
with backoff, then moved to ``<topic>.dlq`` with the error and the consumer group in
headers, so the partition moves on (see :func:`retrying`).

On a topic another context owns, types this service has no model for are expected and
skipped (``Inbox(foreign_topic=True)``); on a service's own topic they are poison.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import ConsumerRecord  # type: ignore[import-untyped]
from faststream.kafka import KafkaMessage
from pydantic import ValidationError
from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import metrics
from common.clock import Clock, SystemClock
from common.db import inbox, is_data_error, is_database_unavailable
from common.envelope import Envelope, EnvelopeError
from common.events import Event, event_class, split_ce_type

log = structlog.get_logger(__name__)

DLQ_SUFFIX = ".dlq"

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]
"""Apply one event inside the given transaction."""


Headers = Mapping[str, Any] | Iterable[tuple[str, Any]]
"""Message headers: FastStream's dict or a consumer record's list of pairs."""

SendRecord = Callable[
    [str, bytes | None, bytes | None, list[tuple[str, bytes]]], Awaitable[Awaitable[object]]
]
"""Enqueue one record exactly as given (a null key or value stays null, a header name may
repeat, nothing is added); await the result for the ack (``Runtime.send_record``)."""

DeadLetter = Callable[[Any, BaseException, int, str], Awaitable[None]]
"""Send one consumer record to its dead-letter topic: (record, error, attempts, consumer)."""

BatchHandle = Callable[[Sequence[Any]], Awaitable[object]]
"""Apply a batch of consumer records (``Inbox.handle_batch``, say)."""


async def publish_dead_letter(
    send: SendRecord, record: Any, exc: BaseException, attempts: int, consumer: str
) -> None:
    """Publish ``record`` to ``<topic>.dlq`` with the error in headers; await the ack.

    The dead letter is the record as it came: its key and value (null stays null), its
    headers in order, repeated names included, hex-encoded where not UTF-8 (named in
    ``dlq_hex_headers``), then the ``dlq_*`` headers. Several services' consumer groups
    may read one topic and share its ``.dlq``: the ``dlq_consumer`` header names the group
    that gave up, so each can find, and replay, its own. If this publish fails the
    exception propagates: the message is not acknowledged and comes back, so nothing is
    lost.
    """
    topic = record.topic + DLQ_SUFFIX
    headers, hexed = text_headers(record.headers or ())
    headers = [(k, v) for k, v in headers if not k.startswith("dlq_")]
    if hexed:
        headers.append(("dlq_hex_headers", ",".join(hexed).encode()))
    headers += [
        ("dlq_error", str(exc)[:4000].encode()),
        ("dlq_error_type", type(exc).__name__.encode()),
        ("dlq_original_topic", record.topic.encode()),
        ("dlq_original_partition", str(record.partition).encode()),
        ("dlq_original_offset", str(record.offset).encode()),
        ("dlq_attempts", str(attempts).encode()),
        ("dlq_consumer", consumer.encode()),
    ]
    key, value = record.key, record.value
    if key is None and value is None:  # a Kafka record needs one of them
        value = b""
    ack = await send(topic, key, value, headers)
    await ack
    metrics.DEAD_LETTERS.labels(record.topic).inc()
    log.error(
        "consumer.dead_lettered",
        consumer=consumer,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        error_type=type(exc).__name__,
        error=str(exc)[:500],
    )


def text_headers(headers: Iterable[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Headers whose values are all UTF-8: a value that is not is hex-encoded.

    Returns the headers and the names of those hex-encoded, so that a dead-lettered
    record keeps its raw headers in a form every consumer (and FastStream) can read.
    """
    out: list[tuple[str, bytes]] = []
    hexed: list[str] = []
    for name, value in headers:
        raw = value if isinstance(value, bytes) else str(value).encode()
        try:
            raw.decode()
        except UnicodeDecodeError:
            raw = raw.hex().encode()
            hexed.append(name)
        out.append((name, raw))
    return out, hexed


async def safe_batch_parser(records: Any, parse: Callable[[Any], Awaitable[Any]]) -> Any:
    """A FastStream batch parser that never fails on a record's headers.

    FastStream's own parser decodes every header value as UTF-8 before any handler
    runs, and a single record with a binary header (a vendor's feed, a hostile
    producer) made it drop the whole fetched batch with only a log line. This one hands
    FastStream copies whose header values are made text, and keeps the original records
    as the message's ``raw_message``: the inbox reads those, dead-letters a record whose
    CloudEvents headers are not text, and applies the rest.
    """
    batch: tuple[ConsumerRecord[Any, Any], ...] = (
        tuple(records) if isinstance(records, tuple | list) else (records,)
    )
    safe = tuple(dataclasses.replace(r, headers=text_headers(r.headers or ())[0]) for r in batch)
    message = await parse(safe if isinstance(records, tuple | list) else safe[0])
    message.raw_message = records
    return message


INBOX_ID_LENGTH: int = inbox.c.event_id.type.length  # type: ignore[attr-defined]  # String(64)
_HASHED = "sha256:"


def inbox_key(event_id: str) -> str:
    """How the inbox remembers an event id (its ``ce_id``): the id itself, or, when it
    does not fit the ``event_id`` column, ``sha256:`` and the start of its SHA-256.

    CloudEvents allows any non-empty id and the envelope takes one up to
    :data:`common.envelope.MAX_ID_LENGTH` characters: a longer one than the column used
    to fail the insert, be retried and then dead-lettered, i.e. lost. An id that already
    starts with ``sha256:`` is hashed too, so no id is remembered as another's hash.
    """
    if len(event_id) <= INBOX_ID_LENGTH and not event_id.startswith(_HASHED):
        return event_id
    digest = hashlib.sha256(event_id.encode()).hexdigest()
    return (_HASHED + digest)[:INBOX_ID_LENGTH]


class PoisonMessage(Exception):
    """A message that can never be handled: retrying it is pointless."""


def decode_event(
    headers: Headers,
    body: bytes,
    models: Mapping[str, type[Event]],
    *,
    foreign_topic: bool = False,
) -> tuple[Envelope, Event | None]:
    """Envelope and model of a message; the model is None for an uninteresting type.

    ``models`` are the consumer's own classes by CloudEvents type (its handler map's:
    foreign events are decoded with the consumer's reader, not a global one). Raises
    :class:`PoisonMessage` for missing/invalid CloudEvents headers, a type that is not
    ``<context>.<Name>.v<N>``, an interesting event name with a version this code does
    not know, an unknown type (except on a ``foreign_topic``: another context's topic
    carries types this service has no model for), or a body that does not validate.
    """
    try:
        envelope = Envelope.from_headers(headers)
    except EnvelopeError as exc:
        raise PoisonMessage(str(exc)) from exc
    parsed = split_ce_type(envelope.type)
    if parsed is None:
        raise PoisonMessage(f"malformed ce_type {envelope.type!r}")
    model = models.get(envelope.type) or event_class(envelope.type)
    interesting = any(m.name == parsed[0] for m in models.values())
    if not interesting and (model is not None or foreign_topic):
        return envelope, None
    if model is None:
        raise PoisonMessage(f"unknown event type or version {envelope.type!r}")
    try:
        return envelope, model.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessage(
            f"{envelope.type} body invalid: {exc.error_count()} error(s): "
            f"{exc.errors(include_input=False, include_url=False)}"
        ) from exc


class Inbox:
    """Routes a topic's events to handlers, exactly once in effect per consumer name."""

    def __init__(
        self,
        consumer: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Mapping[type[Event], Handler],
        *,
        clock: Clock | None = None,
        dead_letter: DeadLetter | None = None,
        max_attempts: int = 5,
        backoff_s: float = 0.2,
        foreign_topic: bool = False,
    ) -> None:
        self.consumer = consumer
        self._foreign_topic = foreign_topic
        self._sessionmaker = sessionmaker
        self._handlers = {cls.ce_type(): h for cls, h in handlers.items()}
        self._models = {cls.ce_type(): cls for cls in handlers}
        self._clock = clock or SystemClock()
        self._dead_letter = dead_letter
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s

    @property
    def event_types(self) -> tuple[type[Event], ...]:
        """The event classes it handles (its readers, for another context's events)."""
        return tuple(self._models.values())

    @property
    def foreign_topic(self) -> bool:
        """Whether its topic is another context's (types it has no model for are skipped)."""
        return self._foreign_topic

    async def handle(self, headers: Headers, body: bytes) -> str:
        """Apply one message; returns the outcome (applied, duplicate, ignored)."""
        envelope, event = decode_event(
            headers, body, self._models, foreign_topic=self._foreign_topic
        )
        handler = self._handlers.get(envelope.type)
        if event is None or handler is None:
            if event is not None:  # a version of an interesting event we don't handle
                raise PoisonMessage(f"no handler for {envelope.type}")
            metrics.EVENTS_CONSUMED.labels(self.consumer, "ignored").inc()
            return "ignored"
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(
            event_id=envelope.id, event_type=envelope.type, correlation_id=envelope.correlation_id
        ):
            async with self._sessionmaker() as session, session.begin():
                if not await self._remember(session, envelope):
                    outcome = "duplicate"
                else:
                    await handler(session, event, envelope)
                    outcome = "applied"
        metrics.HANDLER_SECONDS.labels(self.consumer).observe(time.perf_counter() - started)
        metrics.EVENTS_CONSUMED.labels(self.consumer, outcome).inc()
        return outcome

    async def _remember(self, session: AsyncSession, envelope: Envelope) -> bool:
        values = {
            "consumer": self.consumer,
            "event_id": inbox_key(envelope.id),
            "ce_type": envelope.type,
            "received_at": self._clock.now(),
        }
        dialect = session.get_bind().dialect.name
        stmt: Any
        if dialect == "postgresql":
            stmt = pg_insert(inbox).values(values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            stmt = sqlite_insert(inbox).values(values).on_conflict_do_nothing()
        else:  # pragma: no cover - only the two dialects above are supported
            stmt = insert(inbox).values(values)
        result = await session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult

    async def handle_batch(self, records: Sequence[Any]) -> Counter[str]:
        """Apply a batch of consumer records in one transaction; returns outcome counts.

        Poison records go to the dead-letter topic and the rest are applied: the inbox
        rows of the whole batch are inserted with one statement, and every new event's
        handler runs in the same transaction. If a handler fails, the batch is rolled
        back and its records are applied one by one, so that only the failing record is
        retried and, in the end, dead-lettered.
        """
        if self._dead_letter is None:
            raise RuntimeError("a batch inbox needs a dead_letter sender")
        outcomes: Counter[str] = Counter()
        counted: Counter[str] = Counter()  # of the outcomes, those already in the metric
        work: list[tuple[Any, Envelope, Event, Handler]] = []
        for record in records:
            try:
                envelope, event = decode_event(
                    record.headers or (),
                    record.value or b"",
                    self._models,
                    foreign_topic=self._foreign_topic,
                )
                handler = self._handlers.get(envelope.type)
                if event is not None and handler is None:
                    raise PoisonMessage(f"no handler for {envelope.type}")
            except PoisonMessage as exc:
                await self._dead_letter(record, exc, 1, self.consumer)
                outcomes["dead_lettered"] += 1
                continue
            if event is None or handler is None:
                outcomes["ignored"] += 1
                continue
            work.append((record, envelope, event, handler))
        if work:
            started = time.perf_counter()
            try:
                async with self._sessionmaker() as session, session.begin():
                    fresh = await self._remember_many(session, [w[1] for w in work])
                    for _record, envelope, event, handler in work:
                        if inbox_key(envelope.id) in fresh:
                            fresh.discard(inbox_key(envelope.id))  # twice in a batch: once
                            await handler(session, event, envelope)
                            outcomes["applied"] += 1
                        else:
                            outcomes["duplicate"] += 1
                metrics.HANDLER_SECONDS.labels(self.consumer).observe(
                    (time.perf_counter() - started) / len(work)
                )
            except Exception as exc:
                log.warning(
                    "consumer.batch_failed", consumer=self.consumer, size=len(work), error=str(exc)
                )
                # Rolled back: what the first pass dead-lettered or ignored stays counted.
                outcomes.pop("applied", None)
                outcomes.pop("duplicate", None)
                alone = await self._one_by_one([w[0] for w in work])
                outcomes.update(alone)
                # Inbox.handle counted its own outcomes: only the dead letters are left.
                counted.update({k: n for k, n in alone.items() if k != "dead_lettered"})
        for outcome, n in (outcomes - counted).items():
            metrics.EVENTS_CONSUMED.labels(self.consumer, outcome).inc(n)
        return outcomes

    async def _one_by_one(self, records: list[Any]) -> Counter[str]:
        assert self._dead_letter is not None
        outcomes: Counter[str] = Counter()
        for record in records:
            attempt, waits = 1, 0
            while True:
                try:
                    outcomes[await self.handle(record.headers or (), record.value or b"")] += 1
                    break
                except Exception as exc:
                    if is_database_unavailable(exc):  # not the record's fault: no attempt
                        waits += 1
                        await wait_for_database(self.consumer, record, exc, self._backoff_s, waits)
                        continue
                    # A value the database refuses (is_data_error) fails every attempt.
                    if (
                        isinstance(exc, PoisonMessage)
                        or is_data_error(exc)
                        or attempt == self._max_attempts
                    ):
                        await self._dead_letter(record, exc, attempt, self.consumer)
                        outcomes["dead_lettered"] += 1
                        break
                    metrics.CONSUMER_RETRIES.labels(record.topic).inc()
                    await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
                    attempt += 1
        return outcomes

    async def _remember_many(self, session: AsyncSession, envelopes: list[Envelope]) -> set[str]:
        """Insert the inbox rows; returns the keys (:func:`inbox_key`) not there before."""
        now = self._clock.now()
        rows = [
            {
                "consumer": self.consumer,
                "event_id": inbox_key(e.id),
                "ce_type": e.type,
                "received_at": now,
            }
            for e in envelopes
        ]
        stmt = _REMEMBER[session.get_bind().dialect.name]
        return set((await session.scalars(stmt, rows)).all())


# One statement object per dialect, run with a list of rows: SQLAlchemy sends multi-row
# INSERTs ("insertmanyvalues") without walking a new statement of the batch's size.
_REMEMBER: dict[str, Any] = {
    "postgresql": pg_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id),
    "sqlite": sqlite_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id),
}


async def raw_body(msg: Any) -> bytes:
    """A FastStream decoder that leaves the body as bytes: the inbox validates it."""
    body: bytes = msg.body
    return body


UNAVAILABLE_MAX_BACKOFF_S = 5.0
"""The longest wait between two tries of a consumer whose database is unreachable."""


async def wait_for_database(
    consumer: str, record: Any, exc: BaseException, backoff_s: float, waits: int
) -> None:
    """Back off (exponentially, up to :data:`UNAVAILABLE_MAX_BACKOFF_S`) before trying
    ``record`` again: the database is unreachable (:func:`common.db.is_database_unavailable`).

    Such a failure is not the record's: it does not count as an attempt and never
    dead-letters the record, which would lose its effect. The consumer waits for the
    database, however long; its partition waits with it, as every record would fail.
    """
    delay = min(UNAVAILABLE_MAX_BACKOFF_S, max(backoff_s, 0.05) * 2 ** min(waits - 1, 10))
    metrics.CONSUMER_RETRIES.labels(record.topic).inc()
    log.warning(
        "consumer.database_unavailable",
        consumer=consumer,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        error=str(exc)[:500],
        retry_in_s=delay,
    )
    await asyncio.sleep(delay)


def retrying(
    consumer: str,
    handle: BatchHandle,
    *,
    dead_letter: DeadLetter,
    max_attempts: int,
    backoff_s: float,
) -> Callable[[Any, KafkaMessage], Awaitable[None]]:
    """A FastStream batch handler: ``handle`` the batch's records, retrying with backoff.

    A :class:`PoisonMessage` escaping ``handle`` sends the batch to the dead-letter topic at
    once; any other error after ``max_attempts`` attempts (an :class:`Inbox` has already
    isolated and dead-lettered failing records one by one by then), except an unreachable
    database: then the batch waits for it (:func:`wait_for_database`). If dead-lettering
    fails too, the error propagates: the offset is not committed and the batch comes back.
    """

    async def on_batch(_bodies: Any, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records = list(raw) if isinstance(raw, tuple | list) else [raw]
        attempt, waits = 0, 0
        while True:
            attempt += 1
            try:
                await handle(records)
                return
            except PoisonMessage as exc:
                failed: BaseException = exc
            except Exception as exc:
                if is_database_unavailable(exc):
                    attempt, waits = attempt - 1, waits + 1
                    await wait_for_database(consumer, records[0], exc, backoff_s, waits)
                    continue
                if attempt < max_attempts:
                    metrics.CONSUMER_RETRIES.labels(records[0].topic).inc()
                    log.warning(
                        "consumer.retry",
                        consumer=consumer,
                        topic=records[0].topic,
                        partition=records[0].partition,
                        offset=records[0].offset,
                        attempt=attempt,
                        error=str(exc),
                    )
                    await asyncio.sleep(backoff_s * 2 ** (attempt - 1))
                    continue
                failed = exc
            for record in records:
                await dead_letter(record, failed, attempt, consumer)
            return

    on_batch.__name__ = f"{consumer.replace('.', '_').replace('-', '_')}_batch"
    return on_batch
