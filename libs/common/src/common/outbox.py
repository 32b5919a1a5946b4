"""Transactional outbox: events are rows written with the state change, then relayed.

A handler calls :func:`stage` inside its transaction; :class:`OutboxRelay` publishes
pending rows in id order with ``acks=all`` and marks them sent. On PostgreSQL a
transaction-scoped advisory lock lets exactly one replica relay at a time, which keeps
per-aggregate order without coordination; on SQLite the service runs one relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from common import metrics
from common.clock import Clock, SystemClock
from common.db import outbox
from common.envelope import Envelope, new_traceparent
from common.events import Event

log = structlog.get_logger(__name__)

RELAY_LOCK_ID = 0x0B0C_5E1A  # pg advisory lock key shared by a service's relays

Send = Callable[[str, bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[object]]]
"""Enqueue one record (topic, key, value, headers); await the result for the ack."""

Seal = Callable[[bytes], bytes]
"""Encrypts a payload at rest (stage) or decrypts it for sending (relay)."""

SEALED_PREFIX = b"sealed:"
"""Marks a sealed payload in the outbox table; an event's JSON always starts with ``{``."""


async def stage(
    session: AsyncSession,
    event: Event,
    *,
    source: str,
    now: datetime,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    topic: str | None = None,
    seal: Seal | None = None,
) -> Envelope:
    """Write ``event`` to the outbox in the session's current transaction.

    ``seal`` encrypts the payload at rest, for events that carry personal data (bound
    for a restricted topic): the row holds ciphertext, and the relay, built with the
    matching ``unseal``, decrypts it just before sending.
    """
    (envelope,) = await stage_all(
        session,
        [event],
        source=source,
        now=now,
        correlation_id=correlation_id,
        traceparent=traceparent,
        topic=topic,
        seal=seal,
    )
    return envelope


_INSERT = insert(outbox)
"""One statement object for every staging: SQLAlchemy memoizes its compiled form."""


async def stage_all(
    session: AsyncSession,
    events: Sequence[Event],
    *,
    source: str,
    now: datetime,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    topic: str | None = None,
    seal: Seal | None = None,
    sealed_topics: Collection[str] | None = None,
) -> list[Envelope]:
    """:func:`stage` several events with one statement, in order.

    With ``sealed_topics``, only the events bound for those topics are sealed.
    """
    envelopes: list[Envelope] = []
    rows: list[dict[str, Any]] = []
    for event in events:
        payload = event.to_json()
        if seal is not None and (sealed_topics is None or event.topic in sealed_topics):
            payload = SEALED_PREFIX + seal(payload)
        envelope = Envelope(
            type=event.ce_type(),
            source=source,
            subject=event.subject(),
            time=now,
            correlation_id=correlation_id,
            traceparent=traceparent or new_traceparent(),
        )
        envelopes.append(envelope)
        rows.append(
            {
                "event_id": envelope.id,
                "topic": topic or event.topic,
                "key": envelope.subject,
                "ce_type": envelope.type,
                "headers": [[k, v.decode()] for k, v in envelope.headers()],
                "payload": payload,
                "created_at": now,
                "attempts": 0,
            }
        )
    if rows:
        # A list of rows: SQLAlchemy sends one multi-row INSERT ("insertmanyvalues").
        await session.execute(_INSERT, rows)
        session.info[_STAGED] = True
    return envelopes


_STAGED = "outbox_staged"
WAKE = "outbox_wake"
"""Key of a sessionmaker ``info`` entry: a callable run after a commit that staged events."""


@sa_event.listens_for(Session, "after_commit")
def _wake_relay_after_commit(session: Session) -> None:
    # The relay polls anyway; waking it here only removes the poll delay.
    if session.info.pop(_STAGED, False) and (wake := session.info.get(WAKE)) is not None:
        wake()


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_staged(session: Session, _transaction: object) -> None:
    session.info.pop(_STAGED, None)


class OutboxRelay:
    """Moves pending outbox rows to Kafka, in order, at least once."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        send: Send,
        *,
        postgres: bool,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        retention: timedelta = timedelta(hours=24),
        clock: Clock | None = None,
        crash_after_publish: bool = False,
        max_backoff_s: float = 10.0,
        unseal: Seal | None = None,
        linger_s: float = 0.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._send = send
        self._postgres = postgres
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retention = retention
        self._clock = clock or SystemClock()
        self._crash_after_publish = crash_after_publish
        self._max_backoff_s = max_backoff_s
        self._unseal = unseal
        self._linger_s = linger_s
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._last_purge: datetime | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()

    async def run(self) -> None:
        """Relay until :meth:`stop`; failures back off exponentially, nothing is dropped."""
        failures = 0
        while not self._stopping:
            try:
                published = await self.publish_pending()
                failures = 0
            except Exception as exc:  # broker or database down: retry the same rows
                failures += 1
                delay = min(self._max_backoff_s, 0.1 * 2**failures)
                log.warning("outbox.relay_failed", error=str(exc), retry_in_s=delay)
                await self._sleep(delay)
                continue
            if published < self._batch_size:
                await self._sleep(self._poll_interval_s)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
            if self._linger_s and not self._stopping:
                # Woken by a commit: let the commits right behind it join the batch, so that
                # under load the relay runs one cycle for several commands, not one each.
                await asyncio.sleep(self._linger_s)
        self._wakeup.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many were published."""
        if not self._postgres:
            return await self._publish_pending_sqlite()
        async with self._sessionmaker() as session, session.begin():
            if not await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_ID))):
                return 0  # another replica is relaying
            rows = await self._pending(session)
            now = self._clock.now()
            if not rows:
                metrics.OUTBOX_LAG.set(0)
                await self._purge(session, now)
                return 0
            try:
                await self._send_all(rows)
            except Exception as exc:
                await self._record_failure(session, rows, exc)
                await session.commit()
                raise
            return await self._mark_sent(session, rows, now)

    async def _publish_pending_sqlite(self) -> int:
        # One relay per service on SQLite, so no lock to hold across the send: and a
        # transaction would hold the database's write lock (taken at BEGIN) while waiting
        # for the broker, blocking every writer - and any consumer the send reaches in the
        # same process (FastStream's TestKafkaBroker delivers inline). Read, send, then mark.
        async with self._sessionmaker() as session:
            async with session.begin():
                rows = await self._pending(session)
                now = self._clock.now()
                if not rows:
                    metrics.OUTBOX_LAG.set(0)
                    await self._purge(session, now)
                    return 0
            try:
                await self._send_all(rows)
            except Exception as exc:
                async with session.begin():
                    await self._record_failure(session, rows, exc)
                raise
            async with session.begin():
                return await self._mark_sent(session, rows, now)

    async def _pending(self, session: AsyncSession) -> list[Any]:
        return list(
            (
                await session.execute(
                    select(
                        outbox.c.id,
                        outbox.c.topic,
                        outbox.c.key,
                        outbox.c.headers,
                        outbox.c.payload,
                        outbox.c.created_at,
                    )
                    .where(outbox.c.sent_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                )
            ).all()
        )

    async def _send_all(self, rows: list[Any]) -> None:
        """Enqueue every row in order, then wait for every ack."""
        acks = [
            await self._send(
                r.topic,
                r.key.encode(),
                self._plain(r.payload),
                [(k, v.encode()) for k, v in r.headers],
            )
            for r in rows
        ]
        await asyncio.gather(*acks)

    async def _record_failure(self, session: AsyncSession, rows: list[Any], exc: Exception) -> None:
        await session.execute(
            update(outbox)
            .where(outbox.c.id.in_([r.id for r in rows]))
            .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:2000])
        )

    async def _mark_sent(self, session: AsyncSession, rows: list[Any], now: datetime) -> int:
        if self._crash_after_publish:
            os._exit(97)  # fault test: published, not yet marked sent
        await session.execute(
            update(outbox).where(outbox.c.id.in_([r.id for r in rows])).values(sent_at=now)
        )
        oldest = rows[0].created_at
        if oldest.tzinfo is None:  # SQLite hands back naive datetimes
            oldest = oldest.replace(tzinfo=now.tzinfo)
        metrics.OUTBOX_LAG.set(max(0.0, (now - oldest).total_seconds()))
        metrics.EVENTS_PUBLISHED.inc(len(rows))
        return len(rows)

    def _plain(self, payload: bytes) -> bytes:
        if not payload.startswith(SEALED_PREFIX):
            return payload
        if self._unseal is None:  # a configuration error: keep the row, never send ciphertext
            raise RuntimeError("a sealed outbox row, but the relay has no unseal function")
        return self._unseal(payload[len(SEALED_PREFIX) :])

    async def _purge(self, session: AsyncSession, now: datetime) -> None:
        if self._last_purge and now - self._last_purge < timedelta(minutes=5):
            return
        self._last_purge = now
        await session.execute(
            delete(outbox).where(
                outbox.c.sent_at.is_not(None), outbox.c.sent_at < now - self._retention
            )
        )
