"""Registration's Kafka subscribers, registered on the runtime's broker after configuration."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from registration.app.handlers import count_declaration
from registration.events import TOPIC, ResidenceDeclared

FIGURES_GROUP = "registration.figures"


def register_consumers(runtime: Runtime) -> Inbox:
    """The base-figures projection: ``registration.events`` -> ``grid_month_figures``."""
    figures = runtime.inbox(FIGURES_GROUP, {ResidenceDeclared: count_declaration})
    runtime.subscribe(
        TOPIC,
        FIGURES_GROUP,
        figures.handle_batch,
        description="Counts declarations per grid and month (the declaration rate read model)",
    )
    return figures
