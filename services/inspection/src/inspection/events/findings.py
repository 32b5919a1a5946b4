"""Findings of visits: the occupants officers met (RESTRICTED: their identity)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field

from inspection.events.base import FINDINGS_TOPIC, InspectionEvent


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
    visit_id: str | None = Field(default=None, description="The visit it was found on")
