"""Sweeps (清查): buildings found that nobody had registered."""

from __future__ import annotations

from datetime import datetime

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
