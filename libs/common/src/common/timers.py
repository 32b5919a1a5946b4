"""Durable timers: work due at a time, stored in the service's database.

Deadlines (declaration, rectification, month-end returns, contact SLAs) are rows, not
in-memory sleeps: they survive restarts, and any replica may fire them. A due timer is
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two replicas never fire the
same one; its handler runs in the same transaction that marks it done.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import metrics
from common.clock import Clock
from common.db import conflict_insert, timers

log = structlog.get_logger(__name__)

TimerHandler = Callable[[AsyncSession, str, dict[str, Any]], Awaitable[None]]
"""Fire one timer (session, key, payload) inside the transaction that completes it."""


async def schedule(
    session: AsyncSession, *, kind: str, key: str, due_at: datetime, payload: dict[str, Any]
) -> None:
    """Schedule (or move) the timer ``kind``/``key``; re-arms a fired one."""
    insert_fn = conflict_insert(session)
    stmt = insert_fn(timers).values(kind=kind, key=key, due_at=due_at, payload=payload, attempts=0)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={
            "due_at": due_at,
            "payload": payload,
            "done_at": None,
            "attempts": 0,
            "last_error": None,
        },
    )
    await session.execute(stmt)


async def cancel(session: AsyncSession, *, kind: str, key: str, now: datetime) -> None:
    """Cancel a pending timer (marks it done without firing)."""
    await session.execute(
        update(timers)
        .where(timers.c.kind == kind, timers.c.key == key, timers.c.done_at.is_(None))
        .values(done_at=now, last_error="cancelled")
    )


class TimerWorker:
    """Fires due timers; safe to run in every replica."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Mapping[str, TimerHandler],
        clock: Clock,
        *,
        postgres: bool,
        poll_interval_s: float = 1.0,
        batch_size: int = 100,
        max_attempts: int = 10,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._handlers = dict(handlers)
        self._clock = clock
        self._postgres = postgres
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                fired = await self.fire_due()
            except Exception as exc:
                log.warning("timers.poll_failed", error=str(exc))
                fired = 0
            if fired < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._poll_interval_s)

    async def fire_due(self) -> int:
        """Fire every timer due now (one transaction each); returns how many fired."""
        now = self._clock.now()
        query = (
            select(timers.c.id)
            .where(
                timers.c.done_at.is_(None),
                timers.c.due_at <= now,
                timers.c.kind.in_(list(self._handlers)),
                timers.c.attempts < self._max_attempts,
            )
            .order_by(timers.c.due_at)
            .limit(self._batch_size)
        )
        async with self._sessionmaker() as session:
            ids = list((await session.scalars(query)).all())
        fired = 0
        for timer_id in ids:
            fired += await self._fire_one(timer_id, now)
        return fired

    async def _fire_one(self, timer_id: int, now: datetime) -> int:
        claim = select(timers).where(timers.c.id == timer_id, timers.c.done_at.is_(None))
        if self._postgres:
            claim = claim.with_for_update(skip_locked=True)
        try:
            async with self._sessionmaker() as session, session.begin():
                row = (await session.execute(claim)).first()
                if row is None:
                    return 0  # another replica fired it
                await self._handlers[row.kind](session, row.key, dict(row.payload))
                await session.execute(
                    update(timers).where(timers.c.id == timer_id).values(done_at=now)
                )
            metrics.TIMERS_FIRED.labels(row.kind).inc()
            return 1
        except Exception as exc:
            log.warning("timers.fire_failed", timer_id=timer_id, error=str(exc))
            async with self._sessionmaker() as session, session.begin():
                await session.execute(
                    update(timers)
                    .where(timers.c.id == timer_id)
                    .values(attempts=timers.c.attempts + 1, last_error=str(exc)[:2000])
                )
            return 0
