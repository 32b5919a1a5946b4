"""The one way a handler publishes: stage its events in the caller's transaction.

A :class:`Publisher` is built once per service by the service kit (``common.service``):
its CloudEvents source, its clock, and the restricted topics whose
payloads are sealed (encrypted) in the outbox until the relay sends them. Handlers
call ``await publisher.stage(session, events, trace)``; the events of one call go in with
one multi-row INSERT, whatever their number, in order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from common import outbox
from common.clock import Clock
from common.envelope import Envelope, Trace
from common.events import Event
from common.outbox import Seal


@dataclass(frozen=True)
class Publisher:
    """Stages events in the outbox: public ones as JSON, restricted ones sealed."""

    source: str
    clock: Clock
    seal: Seal | None = None
    sealed_topics: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        source: str,
        clock: Clock,
        *,
        seal: Seal | None = None,
        sealed_topics: Collection[str] = (),
    ) -> Publisher:
        if sealed_topics and seal is None:
            raise ValueError("restricted topics need a seal: their payloads hold personal data")
        return cls(source, clock, seal, frozenset(sealed_topics))

    async def stage(
        self, session: AsyncSession, events: Iterable[Event], trace: Trace | None = None
    ) -> list[Envelope]:
        """Write ``events`` to the outbox in ``session``'s transaction; returns their
        envelopes. ``trace`` (the request's or the consumed event's) is carried on."""
        batch = list(events)
        if not batch:
            return []
        trace = trace or Trace()
        return await outbox.stage_all(
            session,
            batch,
            source=self.source,
            now=self.clock.now(),
            correlation_id=trace.correlation_id,
            traceparent=trace.traceparent,
            seal=self.seal,
            sealed_topics=self.sealed_topics,
        )
