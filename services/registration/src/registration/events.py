"""Registration's public events: the contract other agencies' systems subscribe to.

Published on ``registration.events`` keyed by the aggregate id (``ce_subject``): the
property id for property events, the property id for residence events too, so all the
occupancy history of one building stays in order; the employer id for employer,
employment and monthly-return events. Personal data never appears here:
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


# -- employment: "whoever employs is responsible" (誰用工、誰負責) ---------------------------
# All keyed by the employer's id, so one employer's hires, leaves and returns stay in order.


class EmployerChannel(StrEnum):
    """Who declared an employer fact: the employer itself, or the office."""

    EMPLOYER_SELF_DECLARATION = "employer_self_declaration"
    OFFICER = "officer"


class EmployerRegistered(Event):
    """An employer (enterprise, shop) was registered with its unified social credit code."""

    name: ClassVar[str] = "registration.EmployerRegistered"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

    employer_id: str
    credit_code: str = Field(description="Unified social credit code (GB 32100), 18 characters")
    employer_name: str = Field(description="Registered name of the organisation")
    grid_id: str
    address: str
    channel: EmployerChannel
    registered_at: datetime

    def subject(self) -> str:
        return self.employer_id


class EmploymentDeclared(Event):
    """A hire was declared: a person works for the employer from ``hired_on``."""

    name: ClassVar[str] = "registration.EmploymentDeclared"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

    employment_id: str
    employer_id: str
    grid_id: str = Field(description="The employer's grid")
    person_ref: str = Field(description="Stable pseudonymous reference of the person")
    id_number_masked: str = Field(description="Identity number with the middle masked")
    hired_on: date
    declared_at: datetime
    channel: EmployerChannel
    via_roster: bool = Field(description="Declared by a roster (CSV) upload")

    def subject(self) -> str:
        return self.employer_id


class EmploymentEnded(Event):
    """A leave was declared: the person no longer works for the employer (人走銷戶)."""

    name: ClassVar[str] = "registration.EmploymentEnded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

    employment_id: str
    employer_id: str
    grid_id: str
    person_ref: str
    hired_on: date
    left_on: date
    declared_at: datetime
    channel: EmployerChannel
    via_roster: bool

    def subject(self) -> str:
        return self.employer_id


class EmployerReturnFiled(Event):
    """An employer filed (or amended: ``version`` > 1) its monthly return (每月統計、逐月上報)."""

    name: ClassVar[str] = "registration.EmployerReturnFiled"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

    employer_id: str
    grid_id: str
    month: str = Field(description="The month reported, YYYY-MM")
    return_version: int = Field(ge=1, description="1 for the first filing, +1 per amendment")
    headcount: int = Field(ge=0, description="Workers at the end of the month, as reported")
    hires: int = Field(ge=0)
    leavers: int = Field(ge=0)
    recorded_headcount: int = Field(
        ge=0, description="Active employments declared on the platform at the month's end"
    )
    due_at: datetime = Field(description="Deadline under the return policy")
    on_time: bool
    filed_at: datetime
    channel: EmployerChannel
    policy_version: str

    def subject(self) -> str:
        return self.employer_id


class EmployerReturnMissed(Event):
    """The deadline of an employer's monthly return passed with no return filed."""

    name: ClassVar[str] = "registration.EmployerReturnMissed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC

    employer_id: str
    credit_code: str
    grid_id: str
    month: str = Field(description="The month whose return is missing, YYYY-MM")
    due_at: datetime
    detected_at: datetime
    policy_version: str

    def subject(self) -> str:
        return self.employer_id
