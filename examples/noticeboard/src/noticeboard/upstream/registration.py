"""What the noticeboard reads of registration's events (checked against its schemas)."""

from __future__ import annotations

from common.events import ForeignEvent

REGISTRATION_TOPIC = "registration.events"


class RegistrationEvent(ForeignEvent, context="registration", topic=REGISTRATION_TOPIC):
    """A reader of one of registration's events: ``registration.<ClassName>.v1``."""


class PropertyRegistered(RegistrationEvent, key="property_id"):
    """A rental building was registered: one more building a grid's notices reach."""

    # No limits of its own: registration's schema sets none, and a reader stricter than
    # its writer would dead-letter valid events (the contract check refuses that).
    property_id: str
    grid_id: str
