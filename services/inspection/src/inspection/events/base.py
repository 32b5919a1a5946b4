"""Inspection's topics and the base of its events (context ``inspection``)."""

from __future__ import annotations

from common.events import Event

TOPIC = "inspection.events"
"""Public events: no identity travels here."""

FINDINGS_TOPIC = "inspection.findings.restricted"
"""Restricted: the occupants officers met, with their identity, for registration only."""


class InspectionEvent(Event, context="inspection", topic=TOPIC):
    """An event of inspection: ``inspection.<ClassName>.v1`` on ``inspection.events``."""
