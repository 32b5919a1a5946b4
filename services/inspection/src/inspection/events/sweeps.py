"""Sweeps (清查): buildings found that nobody had registered."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from common.events import FreeText
from inspection.events.base import InspectionEvent


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
    address: FreeText = Field(max_length=500, description="Standard address of the building")
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


class SweepStarted(InspectionEvent, key="sweep_id"):
    """A sweep (清查) was planned: its grids, its dates and its team's size."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sweep_id": "SWEEP-2026-03-WT",
                    "grid_ids": ["WT-G03", "WT-G05"],
                    "starts_on": "2026-03-10",
                    "ends_on": "2026-03-12",
                    "team_size": 6,
                    "buildings": 214,
                    "started_at": "2026-03-09T01:00:00Z",
                }
            ]
        }
    )

    sweep_id: str = Field(max_length=100)
    grid_ids: list[str]
    starts_on: date
    ends_on: date
    team_size: int
    buildings: int = Field(description="Registered buildings of its grids when it started")
    started_at: datetime


class VolunteersRequested(InspectionEvent, key="request_id"):
    """Inspection asks the dispatch service for volunteers (義警) to support a sweep."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "request_id": "SWEEP-2026-03-WT:volunteers",
                    "sweep_id": "SWEEP-2026-03-WT",
                    "grid_ids": ["WT-G03", "WT-G05"],
                    "starts_on": "2026-03-10",
                    "ends_on": "2026-03-12",
                    "volunteers": 10,
                    "task_kind": "sweep_support",
                    "requested_at": "2026-03-09T01:00:00Z",
                }
            ]
        }
    )

    request_id: str
    sweep_id: str
    grid_ids: list[str]
    starts_on: date
    ends_on: date
    volunteers: int
    task_kind: str = Field(pattern=r"^[a-z_]+$", description="The dispatch task kind")
    requested_at: datetime


class SweepCompleted(InspectionEvent, key="sweep_id"):
    """A sweep ended: what it covered and what it found (the office's sweep figures)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sweep_id": "SWEEP-2026-03-WT",
                    "grid_ids": ["WT-G03", "WT-G05"],
                    "buildings": 214,
                    "buildings_covered": 214,
                    "households": 3870,
                    "households_covered": 3812,
                    "persons_declared": 5120,
                    "persons_seen": 4978,
                    "persons_met": 5033,
                    "persons_registered": 55,
                    "new_rentals_found": 3,
                    "completed_at": "2026-03-12T10:00:00Z",
                }
            ]
        }
    )

    sweep_id: str
    grid_ids: list[str]
    buildings: int
    buildings_covered: int
    households: int
    households_covered: int
    persons_declared: int = Field(description="Residents declared in its buildings")
    persons_seen: int = Field(description="Of them, met in their rooms")
    persons_met: int = Field(description="Everyone met, declared or not (OccupantFound)")
    persons_registered: int = Field(
        default=0,
        description="Of them, registered by registration as not declared there "
        "(registration.OccupantFindingSettled, as far as it had arrived)",
    )
    new_rentals_found: int = Field(description="Buildings not in the registry (discoveries)")
    completed_at: datetime
