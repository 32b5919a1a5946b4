"""Registration's public events: the contract other agencies' systems subscribe to.

Published on ``registration.events`` keyed by the aggregate id (``ce_subject``): the
property id for property events, the property id for residence events too, so all the
occupancy history of one building stays in order. Personal data never appears here:
persons are referred to by the pseudonymous ``person_ref`` with masked values.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from common.events import Event

TOPIC = "registration.events"


class Channel(StrEnum):
    """How a declaration reached the office."""

    LANDLORD_SELF_DECLARATION = "landlord_self_declaration"
    PERSON_SELF_DECLARATION = "person_self_declaration"
    OFFICER = "officer"


class RoomCapacity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    room_no: str = Field(description="Room or household number within the building")
    capacity: int = Field(ge=1, description="Permitted occupants")


class PropertyRegistered(Event):
    """A rental property (building) was registered with its landlord and rooms."""

    name: ClassVar[str] = "registration.PropertyRegistered"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

    property_id: str
    grid_id: str
    address: str = Field(description="Standard address of the building")
    landlord_id: str = Field(description="Party id of the responsible landlord")
    rooms: list[RoomCapacity]
    channel: Channel
    registered_at: datetime

    def subject(self) -> str:
        return self.property_id


class ResidenceDeclared(Event):
    """A person's move-in to a room of a property was declared."""

    name: ClassVar[str] = "registration.ResidenceDeclared"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

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

    def subject(self) -> str:
        return self.property_id
