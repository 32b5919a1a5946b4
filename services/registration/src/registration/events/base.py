"""Registration's topics and the base of its events (context ``registration``)."""

from __future__ import annotations

from common.events import Event

TOPIC = "registration.events"
"""Public events; personal data appears masked or pseudonymous only."""

PERSONS_TOPIC = "registration.persons.restricted"
"""Restricted topic: full identity records, for entitled consumers only (Kafka ACLs)."""


class RegistrationEvent(Event, context="registration", topic=TOPIC):
    """An event of registration: ``registration.<ClassName>.v1`` on ``registration.events``."""
