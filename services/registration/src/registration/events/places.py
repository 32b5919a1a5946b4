"""Places: grids and property managers (see registration.domain.places)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from common.events import FreeText
from registration.events.base import RegistrationEvent


class GridRegistered(RegistrationEvent, key="grid_id"):
    """A grid (網格), the smallest management area of a community, was registered."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grid_id": "WT-G03",
                    "grid_name": "Wentang grid 03",
                    "community": "Wentang",
                    "grid_worker": "worker-WT-G03",
                    "registered_at": "2026-01-05T01:00:00Z",
                }
            ]
        }
    )

    grid_id: str
    grid_name: FreeText
    community: FreeText
    grid_worker: str | None = Field(description="Account of the assigned grid worker, if any")
    registered_at: datetime


class PropertyManagerAssigned(RegistrationEvent, key="property_id"):
    """A party manages a property on the landlord's behalf (二房東 sublessor, 物業 company)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "party_id": "P21689375a824a8824c58e70",
                    "party_kind": "person",
                    "manager_kind": "sublessor",
                    "assigned_at": "2026-03-02T02:05:47Z",
                }
            ]
        }
    )

    property_id: str
    grid_id: str
    party_id: str = Field(description="The manager: a person_ref or a credit code")
    party_kind: str = Field(description="person or organisation")
    manager_kind: str = Field(
        description="sublessor (二房東) or property_company (物業); new kinds may appear"
    )
    assigned_at: datetime


class PropertyManagerRemoved(RegistrationEvent, key="property_id"):
    """A party no longer manages the property."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "party_id": "P21689375a824a8824c58e70",
                    "removed_at": "2026-09-01T03:12:00Z",
                }
            ]
        }
    )

    property_id: str
    grid_id: str
    party_id: str
    removed_at: datetime
