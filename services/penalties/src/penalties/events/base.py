"""Penalties' topics and the base of its events (context ``penalties``)."""

from __future__ import annotations

from enum import StrEnum

from common.events import Event

TOPIC = "penalties.events"
"""Public events of cases, decisions and orders: parties by id, no personal data."""

NOTICES_TOPIC = "penalties.notices.restricted"
"""Restricted: the notices served on parties, with the recipient's details, for outreach."""

CODE = r"^[a-z][a-z0-9_]{0,49}$"
"""A breach type's code: lower-case words, as the penalty schedule names them."""


class PenaltiesEvent(Event, context="penalties", topic=TOPIC):
    """An event of penalties: ``penalties.<ClassName>.v1`` on ``penalties.events``."""


class PartyKind(StrEnum):
    LANDLORD = "landlord"  # of a rental property (or its manager)
    EMPLOYER = "employer"


class Action(StrEnum):
    """A step of the schedule: what a decision does to a count."""

    WARNING = "warning"  # 警告: closes the count
    RECTIFICATION_ORDER = "rectification_order"  # 責令整改: fix it by a deadline
    FINE = "fine"  # 罰款: closes the count
