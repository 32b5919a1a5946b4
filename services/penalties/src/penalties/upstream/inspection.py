"""What penalties reads of inspection's public events: hazards found on visits (a breach
of the landlord), and completed visits (a follow-up's verdict on an order)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from common.events import ForeignEvent

INSPECTION_TOPIC = "inspection.events"


class InspectionEvent(ForeignEvent, context="inspection", topic=INSPECTION_TOPIC):
    """A reader of one of inspection's events: ``inspection.<ClassName>.v1``."""


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class HazardFound(InspectionEvent, key="property_id"):
    finding_id: str
    visit_id: str
    property_id: str
    grid_id: str
    item: str
    severity: Severity
    correct_by: date
    found_at: datetime


class FollowUpResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    order_id: str
    rectified: bool


class InspectionCompleted(InspectionEvent, key="property_id"):
    """A visit; ``follow_ups``: its verdicts on the orders it followed up."""

    visit_id: str
    property_id: str
    grid_id: str
    officer_id: str
    completed_at: datetime
    follow_ups: list[FollowUpResult] = []
