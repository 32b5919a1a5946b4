"""The figures projection's subscriber: ``registration.events`` -> ``grid_month_figures``."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from registration.app.figures import count_declaration
from registration.events import TOPIC, ResidenceDeclared

FIGURES_GROUP = "registration.figures"


def register_figures_consumer(runtime: Runtime) -> Inbox:
    """The base-figures projection: ``registration.events`` -> ``grid_month_figures``."""
    figures = runtime.inbox(FIGURES_GROUP, {ResidenceDeclared: count_declaration})
    runtime.subscribe(
        TOPIC,
        FIGURES_GROUP,
        figures.handle_batch,
        description="Counts declarations per grid and month (the declaration rate read model)",
    )
    return figures
