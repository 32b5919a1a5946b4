"""Verification (精準核查): an officer's outcome of a lead, on site."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, Field, model_validator

from inspection.events.base import InspectionEvent


class VerificationOutcome(StrEnum):
    """What the officer found at the property."""

    RESIDES_HERE = "resides_here"
    NOT_FOUND = "not_found"
    VISITOR = "visitor"
    MOVED_AWAY = "moved_away"


class VerificationCompleted(InspectionEvent, key="property_id"):
    """An officer verified a lead (UnregisteredOccupantSuspected) on site."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "verification_id": "57968989-0762-49e7-a2e5-471c18ca55ae",
                    "lead_id": "6bd1d7c8-37e5-4335-9815-ad39dc3937bd",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "outcome": "resides_here",
                    "verified_at": "2026-03-09T03:27:40Z",
                    "officer_id": "officer-0317",
                    "room_no": "102",
                    "moved_in_on": "2026-03-01",
                }
            ]
        }
    )

    verification_id: str = Field(description="Unique per verification; a redelivery repeats it")
    lead_id: str = Field(description="The lead verified (UnregisteredOccupantSuspected.lead_id)")
    property_id: str = Field(description="The lead's property")
    outcome: VerificationOutcome
    verified_at: datetime
    officer_id: str = Field(description="Account of the officer who verified")
    room_no: str | None = Field(
        default=None, description="Only with resides_here: the room the person lives in"
    )
    moved_in_on: date | None = Field(
        default=None,
        description="Only with resides_here: the move-in day, if the officer learnt it",
    )

    @model_validator(mode="after")
    def _room_only_when_residing(self) -> VerificationCompleted:
        if self.outcome is not VerificationOutcome.RESIDES_HERE and (
            self.room_no is not None or self.moved_in_on is not None
        ):
            raise ValueError("room_no and moved_in_on are only given with outcome resides_here")
        return self


class VerificationOverdue(InspectionEvent, key="property_id"):
    """A lead's verification task passed its deadline unverified: escalated to the grid's
    supervising officer (the office's duty roster says who)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lead_id": "6bd1d7c8-37e5-4335-9815-ad39dc3937bd",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "due_on": "2026-03-11",
                    "escalated_at": "2026-03-11T16:00:00Z",
                    "policy_version": "wentang-verification-2026-1",
                }
            ]
        }
    )

    lead_id: str
    property_id: str
    grid_id: str
    due_on: date = Field(description="The last day it was due (working days, office calendar)")
    escalated_at: datetime
    policy_version: str
