"""Reconciliation's Kafka subscribers: the access-control feed, verifications, projections.

- ``feeds.access-control``: plain JSON entries from the buildings' door systems (not
  CloudEvents: external systems), key = property id, consumed in batches. No inbox: an
  entry's natural key (device, instant, person) is its idempotency key, remembered with
  ``ON CONFLICT DO NOTHING`` in the batch's own transaction (see
  :meth:`ReconciliationService.ingest`). Invalid entries go to ``feeds.access-control.dlq``.
- ``inspection.events``: ``VerificationCompleted`` closes leads (inbox, exactly once).
  Inspection's other event types are skipped unread (``foreign_topic_handler``): a plain
  inbox would dead-letter the ones this process has no model for.
- ``registration.events``: ``PropertyRegistered`` keeps the address index the
  five-elements lists are matched against; ``ResidenceDeclared`` closes a lead it explains.
  Poison messages there are left to the figures consumer to dead-letter (once).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from faststream.kafka import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError

from common import metrics
from common.inbox import Inbox, PoisonMessage, decode_event, raw_body
from common.runtime import Runtime
from registration.app.handlers import Trace
from registration.app.reconciliation import (
    ACCESS_ENTRIES,
    AccessEntryIn,
    ReconciliationService,
    validation_problem,
)
from registration.domain.errors import DomainError
from registration.domain.reconciliation import AccessEntry
from registration.entrypoints.places_consumers import foreign_topic_handler
from registration.events import TOPIC, PropertyRegistered, ResidenceDeclared
from registration.upstream_inspection import INSPECTION_TOPIC, VerificationCompleted

log = structlog.get_logger(__name__)

FEED_TOPIC = "feeds.access-control"
FEED_GROUP = "registration.access-control"
VERIFICATIONS_GROUP = "registration.verifications"
RECONCILIATION_GROUP = "registration.reconciliation"
TOPICS = (FEED_TOPIC, FEED_TOPIC + ".dlq", INSPECTION_TOPIC, INSPECTION_TOPIC + ".dlq")
"""The topics reconciliation needs besides registration.events (for ``topics``)."""


class AccessControlFeed:
    """Applies a batch of feed records in one transaction; invalid ones are dead-lettered."""

    def __init__(self, runtime: Runtime, service: ReconciliationService) -> None:
        self.runtime = runtime
        self.service = service

    async def handle_batch(self, records: Sequence[Any]) -> Counter[str]:
        """Returns outcome counts (applied, duplicate, dead_lettered).

        A failing transaction raises: the broker's dead-letter middleware retries the batch
        with backoff (the entries are deduplicated, so a retry counts nothing twice). Entries
        are validated first, so what fails there is the database, not one entry.
        Invalid entries are dead-lettered after the commit, so a retry does not send them
        to the dead-letter topic twice.
        """
        now = self.runtime.clock.now()
        entries: list[AccessEntry] = []
        poison: list[tuple[Any, PoisonMessage]] = []
        for record in records:
            try:
                raw = AccessEntryIn.model_validate_json(record.value or b"")
                entries.append(self.service.to_entry(raw, now))
            except ValidationError as exc:
                field, reason = validation_problem(exc)
                poison.append((record, PoisonMessage(f"invalid entry: {field}: {reason}")))
            except DomainError as exc:
                poison.append((record, PoisonMessage(f"invalid entry: {exc}")))
        outcomes: Counter[str] = Counter()
        if entries:
            async with self.runtime.sessionmaker() as session, session.begin():
                result = await self.service.ingest(session, entries, Trace(), channel="kafka")
            outcomes["applied"] = result.applied
            outcomes["duplicate"] = result.duplicates
            outcomes["leads_opened"] = result.leads_opened
            await self.service.purge_if_due(self.runtime.sessionmaker)
        if poison:
            await asyncio.gather(*(self.runtime.dead_letter(r, e, 1) for r, e in poison))
            outcomes["dead_lettered"] = len(poison)
            ACCESS_ENTRIES.labels("kafka", "rejected").inc(len(poison))
        return outcomes

    def subscriber_handler(self) -> Any:
        async def access_control_batch(_bodies: Any, msg: KafkaMessage) -> None:
            raw = msg.raw_message
            await self.handle_batch(raw if isinstance(raw, tuple | list) else (raw,))

        return access_control_batch


def register_reconciliation_consumers(
    runtime: Runtime, service: ReconciliationService, *, feed_batch_size: int
) -> AccessControlFeed:
    settings = runtime.settings
    feed = AccessControlFeed(runtime, service)
    runtime.broker.subscriber(
        FEED_TOPIC,
        group_id=FEED_GROUP,
        batch=True,
        max_records=feed_batch_size,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title=FEED_GROUP,
        description="Smart access-control entries (plain JSON, key = property id) -> "
        "daily sightings per person and property -> UnregisteredOccupantSuspected leads",
    )(feed.subscriber_handler())

    verifications = Inbox(
        VERIFICATIONS_GROUP,
        runtime.sessionmaker,
        {VerificationCompleted: service.on_verification_completed},
        clock=runtime.clock,
        dead_letter=runtime.dead_letter,
        max_attempts=settings.consumer_max_attempts,
        backoff_s=settings.consumer_backoff_s,
    )

    runtime.broker.subscriber(
        INSPECTION_TOPIC,
        group_id=VERIFICATIONS_GROUP,
        batch=True,
        max_records=settings.consumer_batch_size,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title=VERIFICATIONS_GROUP,
        description="inspection.VerificationCompleted -> the lead is closed (LeadClosed); "
        "a resident found by the officer is declared (channel officer) when known",
    )(foreign_topic_handler(verifications, frozenset({VerificationCompleted.name})))

    projections = Inbox(
        RECONCILIATION_GROUP,
        runtime.sessionmaker,
        {
            PropertyRegistered: service.on_property_registered,
            ResidenceDeclared: service.on_residence_declared,
        },
        clock=runtime.clock,
        dead_letter=runtime.dead_letter,
        max_attempts=settings.consumer_max_attempts,
        backoff_s=settings.consumer_backoff_s,
    )
    runtime.broker.subscriber(
        TOPIC,
        group_id=RECONCILIATION_GROUP,
        batch=True,
        max_records=settings.consumer_batch_size,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title=RECONCILIATION_GROUP,
        description="Property addresses for matching five-elements lists; a declared "
        "residence closes the lead it explains (LeadClosed, outcome declared)",
    )(own_topic_handler(projections, frozenset({PropertyRegistered.name, ResidenceDeclared.name})))
    return feed


def own_topic_handler(
    inbox: Inbox, names: frozenset[str]
) -> Callable[[Any, KafkaMessage], Awaitable[None]]:
    """A batch handler that passes the inbox only valid records of ``names``.

    On registration's own topic the figures consumer already dead-letters poison
    messages; a second group doing so too would put two copies of each in
    ``registration.events.dlq``, which nothing tells apart. So this one skips them.
    """

    async def on_batch(_bodies: Any, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple | list) else (raw,)
        wanted = []
        for record in records:
            try:
                _envelope, event = decode_event(
                    record.headers or (), record.value or b"", set(names)
                )
            except PoisonMessage:
                continue
            if event is not None:
                wanted.append(record)
        if len(wanted) < len(records):
            metrics.EVENTS_CONSUMED.labels(inbox.consumer, "ignored").inc(
                len(records) - len(wanted)
            )
        if wanted:
            await inbox.handle_batch(wanted)

    on_batch.__name__ = f"{inbox.consumer}_inbox_batch"
    return on_batch
