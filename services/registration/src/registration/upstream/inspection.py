"""Registration's readers of the inspection service's events (see common.events.ForeignEvent).

Each class declares the fields registration reads from one of inspection's event types,
and the limits of the columns they land in: a longer value is refused at once
(dead-lettered as poison). The contract check reads each against inspection's committed
schema in ``schemas/inspection/``: the contract registration proposed before inspection
existed, which the inspection service now owns and generates from its own events.

- :class:`PropertyDiscovered` (``inspection.events``): carpet sweeps (清查: 區不漏棟、
  棟不漏戶、戶不漏人) find rental buildings nobody had registered; registration turns
  each one into a property (see :mod:`registration.app.places`).
- :class:`VerificationCompleted` (``inspection.events``): an officer verified a lead
  (``UnregisteredOccupantSuspected``) on site. No identity travels on this public
  topic: when the person lives there and registration knows them (the lead's
  ``person_ref``), the room reported is enough to declare the residence (channel
  ``officer``); otherwise the lead closes with ``registration_needed`` and the officer
  registers the person through the HTTP API, where the identity number is entered,
  validated and encrypted like any declaration.
- :class:`OccupantFound` (RESTRICTED, ``inspection.findings.restricted``): an officer
  found an occupant on a visit; it carries the identity, so it travels only on the
  restricted topic, as registration's own ``registration.persons.restricted`` does.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.events import ForeignEvent

INSPECTION_TOPIC = "inspection.events"
FINDINGS_TOPIC = "inspection.findings.restricted"


class InspectionEvent(ForeignEvent, context="inspection", topic=INSPECTION_TOPIC):
    """A reader of one of inspection's events: ``inspection.<ClassName>.v1``."""


"""Restricted: inspection findings with personal data; readable by registration only."""


class DiscoveredRoom(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    room_no: str = Field(max_length=50, description="Room or household number within the building")
    capacity_estimate: int = Field(
        description="Occupants the room can hold, as estimated on the visit"
    )


class PropertyDiscovered(InspectionEvent, key="sweep_id"):
    """A sweep found a rental building (with its rooms) that was not registered."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "discovery_id": "b2503ecb-81f8-4ac0-b520-116bd2e20b73",
                    "sweep_id": "SWEEP-2026-03-WT",
                    "grid_id": "WT-G05",
                    "address": "No. 3, Lane 9, Wentang Village, Dongcheng Subdistrict, Dongguan",
                    "rooms": [
                        {"room_no": "101", "capacity_estimate": 4},
                        {"room_no": "201", "capacity_estimate": 6},
                    ],
                    "landlord_hint": None,
                    "discovered_at": "2026-03-11T06:18:52Z",
                    "officer": "officer-0317",
                }
            ]
        }
    )

    discovery_id: str = Field(
        max_length=100, description="Unique per building found; a redelivery repeats it"
    )
    sweep_id: str = Field(max_length=100, description="The sweep (清查) campaign")
    grid_id: str = Field(max_length=50, description="The grid the building is in")
    address: str = Field(max_length=500, description="Standard address of the building")
    rooms: list[DiscoveredRoom]
    landlord_hint: str | None = Field(
        default=None,
        max_length=100,
        description="Party id of the landlord, when the sweep could tell",
    )
    discovered_at: datetime
    officer: str = Field(
        max_length=200, description="Account of the officer who recorded the building"
    )


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


class OccupantFound(InspectionEvent, key="property_id", topic=FINDINGS_TOPIC):
    """RESTRICTED. An officer found an occupant in a room on a visit (spot-check or sweep).

    Registration declares the residence on the officer's behalf (channel ``officer``, which
    does not count as a self-declaration). Keyed by the property id.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "finding_id": "0530d8e8-8b8f-4c6b-a292-28479ae519c5",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "room_no": "102",
                    "id_number": "441900199506080320",
                    "full_name": "Wang Wu",
                    "phone": "13912345678",
                    "moved_in_on": "2026-03-08",
                    "found_at": "2026-03-10T02:40:19Z",
                    "officer_id": "officer-0317",
                    "visit_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d",
                }
            ]
        }
    )

    finding_id: str = Field(description="Inspection's id of the finding")
    property_id: str = Field(description="Registration's property id")
    room_no: str
    id_number: str = Field(description="Resident identity number (GB 11643), in full")
    full_name: str
    phone: str | None = None
    moved_in_on: date | None = Field(
        default=None, description="Move-in date the occupant stated; the visit day if absent"
    )
    found_at: datetime
    officer_id: str = Field(description="The officer who recorded the finding")
    visit_id: str | None = Field(
        default=None, description="The visit it was found on (absent from older findings)"
    )
