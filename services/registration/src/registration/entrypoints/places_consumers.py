"""Registration's subscriber to the inspection sweeps: buildings found become properties."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaMessage
from faststream.middlewares import AckPolicy

from common import metrics
from common.events import split_ce_type
from common.inbox import DLQ_SUFFIX, Inbox, raw_body
from common.runtime import Runtime
from registration.app.places import PlacesService
from registration.upstream_places import INSPECTION_TOPIC, PropertyDiscovered

DISCOVERIES_GROUP = "registration.discoveries"
TOPICS = (INSPECTION_TOPIC, INSPECTION_TOPIC + DLQ_SUFFIX)
"""The topics this subscriber needs (its dead letters go to ``inspection.events.dlq``)."""


def _wanted(record: Any, names: frozenset[str]) -> bool:
    """A record of one of ``names``, or one the inbox must see to dead-letter it.

    Another context's topic carries types this service has no model for; the inbox
    dead-letters unknown types (right for our own topic), so they are skipped here.
    """
    ce_type = next((v for k, v in record.headers or () if k == "ce_type"), None)
    parsed = split_ce_type(ce_type.decode(errors="replace")) if ce_type else None
    return parsed is None or parsed[0] in names


def foreign_topic_handler(
    inbox: Inbox, names: frozenset[str]
) -> Callable[[Any, KafkaMessage], Awaitable[None]]:
    """A batch handler that passes the inbox only the records of ``names``."""

    async def on_batch(_bodies: Any, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        records = raw if isinstance(raw, tuple | list) else (raw,)
        wanted = [r for r in records if _wanted(r, names)]
        if len(wanted) < len(records):
            metrics.EVENTS_CONSUMED.labels(inbox.consumer, "ignored").inc(
                len(records) - len(wanted)
            )
        if wanted:
            await inbox.handle_batch(wanted)

    on_batch.__name__ = f"{inbox.consumer}_inbox_batch"
    return on_batch


def register_places_consumers(runtime: Runtime, places: PlacesService) -> Inbox:
    """``inspection.events`` -> properties (``inspection.PropertyDiscovered`` only)."""
    discoveries = Inbox(
        DISCOVERIES_GROUP,
        runtime.sessionmaker,
        {PropertyDiscovered: places.on_property_discovered},
        clock=runtime.clock,
        dead_letter=runtime.dead_letter,
        max_attempts=runtime.settings.consumer_max_attempts,
        backoff_s=runtime.settings.consumer_backoff_s,
    )
    # Batches, like the figures consumer: a sweep reports a grid's buildings in bursts.
    runtime.broker.subscriber(
        INSPECTION_TOPIC,
        group_id=DISCOVERIES_GROUP,
        batch=True,
        max_records=runtime.settings.consumer_batch_size,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title="registration.discoveries",
        description="Registers the rental buildings inspection sweeps found "
        "(inspection.PropertyDiscovered)",
    )(foreign_topic_handler(discoveries, frozenset({PropertyDiscovered.name})))
    return discoveries
