"""Visits (三位一體): hazards found, and a visit completed (public; no identity)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from common.events import FreeText
from inspection.events.base import InspectionEvent

CODE = r"^[a-z][a-z0-9_]{0,49}$"
"""A checklist item's or category's code: lower-case words, as the hazard policy names them."""


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class VisitOutcome(StrEnum):
    VISITED = "visited"  # someone was met, the checks were done
    NOBODY_HOME = "nobody_home"
    REFUSED = "refused"


class HazardFound(InspectionEvent, key="property_id"):
    """A checklist item failed on a visit: what, how serious, and by when to correct it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "finding_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d:fire_exit_blocked",
                    "visit_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "item": "fire_exit_blocked",
                    "category": "fire",
                    "severity": "high",
                    "correction_working_days": 3,
                    "correct_by": "2026-03-12",
                    "note": "Bicycles stored in the stairwell",
                    "found_at": "2026-03-09T11:20:00Z",
                    "policy_version": "wentang-hazards-2026-1",
                }
            ]
        }
    )

    finding_id: str = Field(description="Unique per visit and item; a redelivery repeats it")
    visit_id: str
    property_id: str
    grid_id: str
    item: str = Field(pattern=CODE, description="The checklist item (the hazard policy's key)")
    category: str = Field(
        pattern=CODE, description="fire, electrical, overcrowding, structure, security, ..."
    )
    severity: Severity
    correction_working_days: int
    correct_by: date = Field(description="The last day to correct it (the office's calendar)")
    note: FreeText | None = None
    found_at: datetime
    policy_version: str


class FollowUpResult(BaseModel):
    """A follow-up visit's verdict on a rectification order of penalties."""

    model_config = ConfigDict(frozen=True)

    order_id: str = Field(description="penalties.RectificationOrdered.order_id")
    rectified: bool = Field(description="Whether the officer found it rectified")


class InspectionCompleted(InspectionEvent, key="property_id"):
    """A visit was completed: who met how many, what failed, in which shift."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visit_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "plan_id": "3c0e3c55-2a55-4d43-9a1e-2f1f6c1f7a10",
                    "officer_id": "officer-0317",
                    "outcome": "visited",
                    "occupants_met": 3,
                    "hazards_failed": 1,
                    "evening": True,
                    "captured_at": "2026-03-09T11:20:00Z",
                    "completed_at": "2026-03-09T12:02:41Z",
                    "follow_ups": [
                        {"order_id": "0b7c7f0e-58b2-4d55-9a52-3cf6c1b2a9d4", "rectified": True}
                    ],
                }
            ]
        }
    )

    visit_id: str
    property_id: str
    grid_id: str
    plan_id: str | None = Field(default=None, description="The spot-check plan, if planned")
    officer_id: str
    outcome: VisitOutcome
    occupants_met: int
    hazards_failed: int
    evening: bool = Field(description="Captured in the evening shift (錯時工作制)")
    captured_at: datetime = Field(description="When the officer recorded it, on site")
    completed_at: datetime = Field(description="When the service received the completion")
    follow_ups: list[FollowUpResult] = Field(
        default=[],
        description="The rectification orders this visit followed up, and whether each was "
        "rectified (penalties verifies or escalates them)",
    )
