"""Registration's subscriber to the inspection sweeps: buildings found become properties."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from registration.app.places import PlacesService
from registration.upstream.inspection import INSPECTION_TOPIC, PropertyDiscovered

DISCOVERIES_GROUP = "registration.discoveries"
"""The topics this subscriber needs (its dead letters go to ``inspection.events.dlq``)."""


def register_places_consumers(runtime: Runtime, places: PlacesService) -> Inbox:
    """``inspection.events`` -> properties (``inspection.PropertyDiscovered`` only)."""
    discoveries = runtime.inbox(
        DISCOVERIES_GROUP, {PropertyDiscovered: places.on_property_discovered}, foreign_topic=True
    )
    # Batches, like the figures consumer: a sweep reports a grid's buildings in bursts.
    runtime.subscribe(
        INSPECTION_TOPIC,
        DISCOVERIES_GROUP,
        discoveries.handle_batch,
        description="Registers the rental buildings inspection sweeps found "
        "(inspection.PropertyDiscovered)",
    )
    return discoveries
