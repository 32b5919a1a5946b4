"""What the noticeboard reads of registration's events (checked against its schemas)."""

from __future__ import annotations

from typing import ClassVar

from common.events import ForeignEvent

REGISTRATION_TOPIC = "registration.events"


class PropertyRegistered(ForeignEvent):
    """A rental building was registered: one more building a grid's notices reach."""

    name: ClassVar[str] = "registration.PropertyRegistered"
    topic: ClassVar[str] = REGISTRATION_TOPIC

    # No limits of its own: registration's schema sets none, and a reader stricter than
    # its writer would dead-letter valid events (the contract check refuses that).
    property_id: str
    grid_id: str

    def subject(self) -> str:
        return self.property_id
