"""Reconciliation's Kafka subscribers: the access-control feed, verifications, projections.

- ``feeds.access-control``: plain JSON entries from the buildings' door systems (not
  CloudEvents: external systems), key = property id, consumed in batches. No inbox: an
  entry's natural key (device, instant, person) is its idempotency key, remembered with
  ``ON CONFLICT DO NOTHING`` in the batch's own transaction (see
  :meth:`ReconciliationService.ingest`). Invalid entries go to ``feeds.access-control.dlq``.
- ``inspection.events``: ``VerificationCompleted`` closes leads (inbox, exactly once).
  Inspection's other event types are skipped (an inbox on a foreign topic).
- ``registration.events``: ``PropertyRegistered`` keeps the address index the
  five-elements lists are matched against; ``ResidenceDeclared`` closes a lead it explains.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import structlog
from pydantic import ValidationError

from common.envelope import Trace
from common.errors import DomainError
from common.inbox import PoisonMessage
from common.runtime import Runtime
from registration.app.reconciliation import (
    ACCESS_ENTRIES,
    AccessEntryIn,
    ReconciliationService,
    validation_problem,
)
from registration.domain.reconciliation import AccessEntry
from registration.events import TOPIC, PropertyRegistered, ResidenceDeclared
from registration.upstream.inspection import INSPECTION_TOPIC, VerificationCompleted

log = structlog.get_logger(__name__)

FEED_TOPIC = "feeds.access-control"
FEED_GROUP = "registration.access-control"
VERIFICATIONS_GROUP = "registration.verifications"
RECONCILIATION_GROUP = "registration.reconciliation"
"""The topics reconciliation needs besides registration.events (for ``topics``)."""


class AccessControlFeed:
    """Applies a batch of feed records in one transaction; invalid ones are dead-lettered."""

    def __init__(self, runtime: Runtime, service: ReconciliationService) -> None:
        self.runtime = runtime
        self.service = service

    async def handle_batch(self, records: Sequence[Any]) -> Counter[str]:
        """Returns outcome counts (applied, duplicate, dead_lettered).

        A failing transaction raises: :func:`common.inbox.retrying` retries the batch
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
            await asyncio.gather(
                *(self.runtime.dead_letter(r, e, 1, FEED_GROUP) for r, e in poison)
            )
            outcomes["dead_lettered"] = len(poison)
            ACCESS_ENTRIES.labels("kafka", "rejected").inc(len(poison))
        return outcomes


def register_reconciliation_consumers(
    runtime: Runtime, service: ReconciliationService, *, feed_batch_size: int
) -> AccessControlFeed:
    feed = AccessControlFeed(runtime, service)
    runtime.subscribe(
        FEED_TOPIC,
        FEED_GROUP,
        feed.handle_batch,
        batch_size=feed_batch_size,
        description="Smart access-control entries (plain JSON, key = property id) -> "
        "daily sightings per person and property -> UnregisteredOccupantSuspected leads",
    )

    verifications = runtime.inbox(
        VERIFICATIONS_GROUP,
        {VerificationCompleted: service.on_verification_completed},
        foreign_topic=True,
    )
    runtime.subscribe(
        INSPECTION_TOPIC,
        VERIFICATIONS_GROUP,
        verifications.handle_batch,
        description="inspection.VerificationCompleted -> the lead is closed (LeadClosed); "
        "a resident found by the officer is declared (channel officer) when known",
    )

    projections = runtime.inbox(
        RECONCILIATION_GROUP,
        {
            PropertyRegistered: service.on_property_registered,
            ResidenceDeclared: service.on_residence_declared,
        },
    )
    runtime.subscribe(
        TOPIC,
        RECONCILIATION_GROUP,
        projections.handle_batch,
        description="Property addresses for matching five-elements lists; a declared "
        "residence closes the lead it explains (LeadClosed, outcome declared)",
    )
    return feed
