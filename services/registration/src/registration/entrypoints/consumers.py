"""Registration's Kafka subscribers, registered on the runtime's broker after configuration."""

from __future__ import annotations

from faststream.middlewares import AckPolicy

from common.inbox import Inbox, raw_body
from common.runtime import Runtime
from registration.app.handlers import count_declaration
from registration.events import TOPIC, ResidenceDeclared

FIGURES_GROUP = "registration.figures"


def register_consumers(runtime: Runtime) -> Inbox:
    """The base-figures projection: ``registration.events`` -> ``grid_month_figures``."""
    figures = Inbox(
        FIGURES_GROUP,
        runtime.sessionmaker,
        {ResidenceDeclared: count_declaration},
        clock=runtime.clock,
        dead_letter=runtime.dead_letter,
        max_attempts=runtime.settings.consumer_max_attempts,
        backoff_s=runtime.settings.consumer_backoff_s,
    )
    # Batches: one transaction and one offset commit per batch, not per event.
    runtime.broker.subscriber(
        TOPIC,
        group_id=FIGURES_GROUP,
        batch=True,
        max_records=runtime.settings.consumer_batch_size,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title="registration.figures",
        description="Counts declarations per grid and month (the declaration rate read model)",
    )(figures.batch_subscriber_handler())
    return figures
