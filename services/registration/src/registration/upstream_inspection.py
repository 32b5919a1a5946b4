"""The event registration consumes from inspection about its leads: a verification's result.

The inspection service is not built yet; this is the shape registration proposes for it,
so both sides build against one contract (written to ``schemas/inspection/`` by the
contract generator). Registration publishes ``UnregisteredOccupantSuspected`` (a lead);
inspection sends an officer, who finds the person living there, or not, and reports a
:class:`VerificationCompleted` for the lead.

No identity travels on ``inspection.events``: it is a public topic, and the lead
already holds the keyed hash of the identity number. When the person lives there and
registration already knows them (the lead's ``person_ref``), the room the officer
reports is enough for registration to declare the residence itself (channel
``officer``). When registration does not know them, the lead is closed with
``registration_needed`` and the officer registers the person through registration's
HTTP API (``POST /properties/{id}/residences``), where the identity number is entered,
validated and encrypted like any declaration.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict, Field, model_validator

from common.events import Event

INSPECTION_TOPIC = "inspection.events"


class VerificationOutcome(StrEnum):
    """What the officer found at the property."""

    RESIDES_HERE = "resides_here"
    NOT_FOUND = "not_found"
    VISITOR = "visitor"
    MOVED_AWAY = "moved_away"


class VerificationCompleted(Event):
    """An officer verified a lead (UnregisteredOccupantSuspected) on site."""

    name: ClassVar[str] = "inspection.VerificationCompleted"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = INSPECTION_TOPIC
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

    def subject(self) -> str:
        # Keyed like registration's lead events: one property's verifications in order.
        return self.property_id
