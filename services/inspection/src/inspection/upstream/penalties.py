"""What inspection reads of penalties' public events: the rectification orders (責令整改)
whose follow-up visits it schedules. Only the fields inspection reads; no reader is
stricter than penalties' schema."""

from __future__ import annotations

from datetime import date, datetime

from common.events import ForeignEvent

PENALTIES_TOPIC = "penalties.events"


class PenaltiesEvent(ForeignEvent, context="penalties", topic=PENALTIES_TOPIC):
    """A reader of one of penalties' events: ``penalties.<ClassName>.v1``."""


class RectificationOrdered(PenaltiesEvent, key="case_id"):
    """An order to rectify by ``deadline``; a property's order needs a follow-up visit
    (an employer's, ``property_id`` null, does not)."""

    order_id: str
    case_id: str
    breach: str
    item: str | None = None
    property_id: str | None = None
    grid_id: str
    deadline: date
    ordered_at: datetime
