"""The noticeboard's subscriber to registration's public events."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from noticeboard.app import Noticeboard
from noticeboard.upstream.registration import REGISTRATION_TOPIC, PropertyRegistered

BUILDINGS_GROUP = "noticeboard.buildings"


def register_consumers(runtime: Runtime, board: Noticeboard) -> Inbox:
    buildings = runtime.inbox(
        BUILDINGS_GROUP, {PropertyRegistered: board.on_property_registered}, foreign_topic=True
    )
    runtime.subscribe(
        REGISTRATION_TOPIC,
        BUILDINGS_GROUP,
        buildings.handle_batch,
        description="Counts each grid's registered buildings (registration.PropertyRegistered)",
    )
    return buildings
