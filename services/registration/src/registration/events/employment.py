"""Employment: "whoever employs is responsible" (誰用工、誰負責).

All keyed by the employer's id, so one employer's hires, leaves and returns stay in order.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from common.events import FreeText
from registration.events.base import RegistrationEvent


class EmployerChannel(StrEnum):
    """Who declared an employer fact: the employer itself, or the office."""

    EMPLOYER_SELF_DECLARATION = "employer_self_declaration"
    OFFICER = "officer"


class EmployerRegistered(RegistrationEvent, key="employer_id"):
    """An employer (enterprise, shop) was registered with its unified social credit code."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "credit_code": "91441900MA52K3PL8R",
                    "employer_name": "Dongguan Wentang Precision Electronics Co., Ltd.",
                    "grid_id": "WT-G07",
                    "address": "8 Industrial Road, Wentang, Dongcheng Subdistrict, Dongguan",
                    "channel": "employer_self_declaration",
                    "registered_at": "2026-01-12T03:05:41Z",
                }
            ]
        }
    )

    employer_id: str
    credit_code: str = Field(description="Unified social credit code (GB 32100), 18 characters")
    employer_name: FreeText = Field(description="Registered name of the organisation")
    grid_id: str
    address: FreeText
    channel: EmployerChannel
    registered_at: datetime


class EmploymentDeclared(RegistrationEvent, key="employer_id"):
    """A hire was declared: a person works for the employer from ``hired_on``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employment_id": "8ff66594-f11f-47ac-9e85-b8182bffc302",
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "person_ref": "P5bd419aedeeb2083fe3b6a5",
                    "id_number_masked": "4501**********0518",
                    "hired_on": "2026-02-16",
                    "declared_at": "2026-02-16T06:20:31Z",
                    "channel": "employer_self_declaration",
                    "via_roster": True,
                }
            ]
        }
    )

    employment_id: str
    employer_id: str
    grid_id: str = Field(description="The employer's grid")
    person_ref: str = Field(description="Stable pseudonymous reference of the person")
    id_number_masked: str = Field(description="Identity number with the middle masked")
    hired_on: date
    declared_at: datetime
    channel: EmployerChannel
    via_roster: bool = Field(description="Declared by a roster (CSV) upload")


class EmploymentEnded(RegistrationEvent, key="employer_id"):
    """A leave was declared: the person no longer works for the employer (人走銷戶)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employment_id": "8ff66594-f11f-47ac-9e85-b8182bffc302",
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "person_ref": "P5bd419aedeeb2083fe3b6a5",
                    "hired_on": "2026-02-16",
                    "left_on": "2026-03-31",
                    "declared_at": "2026-04-01T01:10:05Z",
                    "channel": "employer_self_declaration",
                    "via_roster": False,
                }
            ]
        }
    )

    employment_id: str
    employer_id: str
    grid_id: str
    person_ref: str
    hired_on: date
    left_on: date
    declared_at: datetime
    channel: EmployerChannel
    via_roster: bool


class EmployerReturnFiled(RegistrationEvent, key="employer_id"):
    """An employer filed (or amended: ``version`` > 1) its monthly return (每月統計、逐月上報)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "month": "2026-02",
                    "return_version": 1,
                    "headcount": 148,
                    "hires": 12,
                    "leavers": 5,
                    "recorded_headcount": 146,
                    "due_at": "2026-03-04T16:00:00Z",
                    "on_time": True,
                    "filed_at": "2026-03-03T07:40:18Z",
                    "channel": "employer_self_declaration",
                    "policy_version": "default-2026",
                }
            ]
        }
    )

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


class EmployerReturnMissed(RegistrationEvent, key="employer_id"):
    """The deadline of an employer's monthly return passed with no return filed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "employer_id": "94067270-8878-4574-a9de-8f98f3980d75",
                    "credit_code": "91441900MA51QH6T39",
                    "grid_id": "WT-G11",
                    "month": "2026-02",
                    "due_at": "2026-03-04T16:00:00Z",
                    "detected_at": "2026-03-04T16:00:02Z",
                    "policy_version": "default-2026",
                }
            ]
        }
    )

    employer_id: str
    credit_code: str
    grid_id: str
    month: str = Field(description="The month whose return is missing, YYYY-MM")
    due_at: datetime
    detected_at: datetime
    policy_version: str
