"""Properties and residences: who is declared to live where."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from common.events import FreeText
from registration.events.base import RegistrationEvent


class Channel(StrEnum):
    """How a declaration reached the office."""

    LANDLORD_SELF_DECLARATION = "landlord_self_declaration"
    PERSON_SELF_DECLARATION = "person_self_declaration"
    OFFICER = "officer"


class RoomCapacity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    room_no: str = Field(description="Room or household number within the building")
    capacity: int = Field(ge=1, description="Permitted occupants")


class PropertyRegistered(RegistrationEvent, key="property_id"):
    """A rental property (building) was registered with its landlord and rooms."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "address": "No. 12, Lane 4, Wentang Village, Dongcheng Subdistrict, Dongguan",
                    "landlord_id": "92441900MA4X7K2B1N",
                    "rooms": [
                        {"room_no": "101", "capacity": 2},
                        {"room_no": "102", "capacity": 3},
                        {"room_no": "201", "capacity": 4},
                    ],
                    "channel": "landlord_self_declaration",
                    "registered_at": "2026-03-02T01:30:12Z",
                    "discovery_id": None,
                    "sweep_id": None,
                }
            ]
        }
    )

    property_id: str
    grid_id: str
    address: FreeText = Field(description="Standard address of the building")
    landlord_id: str = Field(description="Party id of the responsible landlord")
    rooms: list[RoomCapacity]
    channel: Channel
    registered_at: datetime
    # Added compatibly (optional): a building found on an inspection sweep is registered
    # with channel ``officer`` (an officer recorded it on site) and these two set.
    discovery_id: str | None = Field(
        default=None, description="The inspection sweep's discovery, if found on a sweep"
    )
    sweep_id: str | None = Field(
        default=None, description="The sweep (清查) that found the building, if any"
    )


class ResidenceDeclared(RegistrationEvent, key="property_id"):
    """A person's move-in to a room of a property was declared."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "residence_id": "5aea4425-ebe0-4c17-bd86-865b9814d3f1",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "room_no": "201",
                    "person_ref": "Pa7092e1ee4b00279151936b",
                    "id_number_masked": "4304**********0020",
                    "gender": "female",
                    "birth_year": 1992,
                    "origin_region": "430421",
                    "moved_in_on": "2026-03-02",
                    "declared_at": "2026-03-03T02:14:09Z",
                    "deadline": "2026-03-05",
                    "on_time": True,
                    "channel": "landlord_self_declaration",
                    "over_capacity": False,
                    "policy_version": "default-2026",
                    "migrated_at": None,
                }
            ]
        }
    )

    residence_id: str
    property_id: str
    grid_id: str
    room_no: str
    person_ref: str = Field(description="Stable pseudonymous reference of the person")
    id_number_masked: str = Field(description="Identity number with the middle masked")
    gender: str
    birth_year: int
    origin_region: str = Field(description="Six-digit region code of household registration")
    moved_in_on: date
    declared_at: datetime
    deadline: date = Field(description="Last on-time day under the declaration policy")
    on_time: bool
    channel: Channel
    over_capacity: bool = Field(description="The room holds more people than its capacity")
    policy_version: str
    migrated_at: datetime | None = Field(
        default=None,
        description="Set on a declaration brought over from the office's previous records: "
        "when it was; declared_at (and so on_time) is then the original declaration's",
    )


class ResidenceEndReason(StrEnum):
    MOVED_OUT = "moved_out"  # the landlord or the office declared the move-out
    MOVED_ELSEWHERE = "moved_elsewhere"  # a move-in elsewhere was declared for the person
    CORRECTED = "corrected"  # the residence was declared in error


class ResidenceEnded(RegistrationEvent, key="property_id"):
    """A person's residence in a room ended (move-out, move-in elsewhere, or correction).

    Keyed by the property id of the residence that ended, like its ``ResidenceDeclared``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "residence_id": "5aea4425-ebe0-4c17-bd86-865b9814d3f1",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "room_no": "201",
                    "person_ref": "Pa7092e1ee4b00279151936b",
                    "moved_in_on": "2026-03-02",
                    "moved_out_on": "2026-06-30",
                    "reason": "moved_out",
                    "superseded_by": None,
                    "channel": "landlord_self_declaration",
                    "ended_at": "2026-07-01T01:55:12Z",
                }
            ]
        }
    )

    residence_id: str
    property_id: str
    grid_id: str
    room_no: str
    person_ref: str
    moved_in_on: date
    moved_out_on: date
    reason: ResidenceEndReason
    superseded_by: str | None = Field(
        default=None, description="For moved_elsewhere: the residence declared in its place"
    )
    channel: Channel = Field(description="How the move-out (or the new move-in) was declared")
    ended_at: datetime


class FindingOutcome(StrEnum):
    ALREADY_DECLARED = "already_declared"  # declared in that room: only contacts updated
    REGISTERED = "registered"  # not declared there: declared now by the office


class OccupantFindingSettled(RegistrationEvent, key="property_id"):
    """What registration, the system of record, made of an occupant an officer found on a
    visit (``inspection.OccupantFound``, restricted): public and pseudonymous, for
    penalties (an undeclared occupant is a breach of the landlord) and inspection (the
    persons a sweep registered).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "finding_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d:9c1e77d0a1b2c3d4",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "landlord_id": "92441900MA4X7K2B1N",
                    "room_no": "102",
                    "person_ref": "Pa7092e1ee4b00279151936b",
                    "id_number_masked": "4419**********0320",
                    "outcome": "registered",
                    "residence_id": "5aea4425-ebe0-4c17-bd86-865b9814d3f1",
                    "found_at": "2026-03-10T02:40:19Z",
                    "settled_at": "2026-03-10T02:40:21Z",
                    "visit_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d",
                }
            ]
        }
    )

    finding_id: str = Field(description="inspection.OccupantFound.finding_id")
    property_id: str
    grid_id: str
    landlord_id: str = Field(description="Party id of the property's landlord")
    room_no: str
    person_ref: str
    id_number_masked: str
    outcome: FindingOutcome
    residence_id: str | None = Field(
        default=None, description="With registered: the residence declared by the office"
    )
    found_at: datetime
    settled_at: datetime
    visit_id: str | None = Field(
        default=None,
        description="inspection.OccupantFound.visit_id: the visit it was found on (penalties "
        "makes the undeclared occupants of one visit one case)",
    )
