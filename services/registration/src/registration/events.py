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

from common.events import Event, FreeText

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

    def subject(self) -> str:
        return self.property_id


class ResidenceDeclared(Event):
    """A person's move-in to a room of a property was declared."""

    name: ClassVar[str] = "registration.ResidenceDeclared"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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
    employer_name: str = Field(description="Registered name of the organisation")
    grid_id: str
    address: FreeText
    channel: EmployerChannel
    registered_at: datetime

    def subject(self) -> str:
        return self.employer_id


class EmploymentDeclared(Event):
    """A hire was declared: a person works for the employer from ``hired_on``."""

    name: ClassVar[str] = "registration.EmploymentDeclared"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.employer_id


class EmploymentEnded(Event):
    """A leave was declared: the person no longer works for the employer (人走銷戶)."""

    name: ClassVar[str] = "registration.EmploymentEnded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.employer_id


class EmployerReturnFiled(Event):
    """An employer filed (or amended: ``version`` > 1) its monthly return (每月統計、逐月上報)."""

    name: ClassVar[str] = "registration.EmployerReturnFiled"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.employer_id


class EmployerReturnMissed(Event):
    """The deadline of an employer's monthly return passed with no return filed."""

    name: ClassVar[str] = "registration.EmployerReturnMissed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.employer_id


# -- places: grids and property managers (see registration.domain.places) ------------------


class GridRegistered(Event):
    """A grid (網格), the smallest management area of a community, was registered."""

    name: ClassVar[str] = "registration.GridRegistered"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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
    community: str
    grid_worker: str | None = Field(description="Account of the assigned grid worker, if any")
    registered_at: datetime

    def subject(self) -> str:
        return self.grid_id


class PropertyManagerAssigned(Event):
    """A party manages a property on the landlord's behalf (二房東 sublessor, 物業 company)."""

    name: ClassVar[str] = "registration.PropertyManagerAssigned"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.property_id


class PropertyManagerRemoved(Event):
    """A party no longer manages the property."""

    name: ClassVar[str] = "registration.PropertyManagerRemoved"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.property_id


# -- responsibility agreements (責任書), see registration.domain.agreements -----------------
# Keyed by the agreement's subject: the property id (landlord and tenant agreements) or the
# employer id (employer agreements), so they stay in order with that aggregate's events.
# ``kind`` is a string, not an enum: new kinds (an anti-fraud responsibility agreement, say)
# must not break subscribers validating against v1.


class AgreementSigned(Event):
    """A responsibility agreement (責任書) was signed with the office."""

    name: ClassVar[str] = "registration.AgreementSigned"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agreement_id": "9d5b4fc5-7aa7-42f7-960d-c9d2676ed6f0",
                    "kind": "landlord",
                    "signatory_party_id": "92441900MA4X7K2B1N",
                    "counterpart_office": "Wentang community police office",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "employer_id": None,
                    "grid_id": "WT-G03",
                    "signed_on": "2026-03-02",
                    "valid_from": "2026-03-02",
                    "valid_until": "2027-03-01",
                    "recorded_at": "2026-03-02T02:30:00Z",
                    "policy_version": "default-2026",
                },
                {
                    "agreement_id": "1a7869ba-6686-4843-9834-c19771e4baf8",
                    "kind": "employer",
                    "signatory_party_id": "91441900MA52K3PL8R",
                    "counterpart_office": "Wentang community police office",
                    "property_id": None,
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "signed_on": "2026-01-12",
                    "valid_from": "2026-01-12",
                    "valid_until": "2029-01-11",
                    "recorded_at": "2026-01-12T03:20:14Z",
                    "policy_version": "default-2026",
                },
            ]
        }
    )

    agreement_id: str
    kind: str = Field(description="landlord, tenant or employer; new kinds may appear")
    signatory_party_id: str = Field(
        description="Who signed: a landlord's or manager's party id, a tenant's person_ref, "
        "an employer's credit code"
    )
    counterpart_office: str = Field(description="The police office that counter-signed")
    property_id: str | None = Field(description="The property (landlord and tenant kinds)")
    employer_id: str | None = Field(description="The employer (employer kind)")
    grid_id: str
    signed_on: date
    valid_from: date
    valid_until: date = Field(description="Last day the agreement is in force")
    recorded_at: datetime
    policy_version: str

    def subject(self) -> str:
        return self.property_id or self.employer_id or self.agreement_id


class AgreementRenewed(Event):
    """A new agreement replaced (superseded) an earlier one for the same subject."""

    name: ClassVar[str] = "registration.AgreementRenewed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agreement_id": "d2e57fd1-5620-4d0d-8fbf-fdbcc665c58f",
                    "previous_agreement_id": "9d5b4fc5-7aa7-42f7-960d-c9d2676ed6f0",
                    "kind": "landlord",
                    "signatory_party_id": "92441900MA4X7K2B1N",
                    "counterpart_office": "Wentang community police office",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "employer_id": None,
                    "grid_id": "WT-G03",
                    "signed_on": "2027-02-22",
                    "valid_from": "2027-03-02",
                    "valid_until": "2030-03-01",
                    "recorded_at": "2027-02-22T06:41:09Z",
                    "policy_version": "default-2026",
                },
                {
                    "agreement_id": "c543161c-322a-4672-9ddd-6ba4aca98366",
                    "previous_agreement_id": "1a7869ba-6686-4843-9834-c19771e4baf8",
                    "kind": "employer",
                    "signatory_party_id": "91441900MA52K3PL8R",
                    "counterpart_office": "Wentang community police office",
                    "property_id": None,
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "signed_on": "2028-12-28",
                    "valid_from": "2029-01-12",
                    "valid_until": "2032-01-11",
                    "recorded_at": "2028-12-28T02:15:33Z",
                    "policy_version": "default-2026",
                },
            ]
        }
    )

    agreement_id: str = Field(description="The new agreement")
    previous_agreement_id: str = Field(description="The agreement it supersedes")
    kind: str
    signatory_party_id: str
    counterpart_office: str
    property_id: str | None
    employer_id: str | None
    grid_id: str
    signed_on: date
    valid_from: date
    valid_until: date
    recorded_at: datetime
    policy_version: str

    def subject(self) -> str:
        return self.property_id or self.employer_id or self.agreement_id


class AgreementRevoked(Event):
    """The office revoked an agreement before its end."""

    name: ClassVar[str] = "registration.AgreementRevoked"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agreement_id": "9d5b4fc5-7aa7-42f7-960d-c9d2676ed6f0",
                    "kind": "landlord",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "employer_id": None,
                    "grid_id": "WT-G03",
                    "revoked_at": "2026-08-14T07:02:51Z",
                },
                {
                    "agreement_id": "1a7869ba-6686-4843-9834-c19771e4baf8",
                    "kind": "employer",
                    "property_id": None,
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "revoked_at": "2026-10-09T01:48:20Z",
                },
            ]
        }
    )

    agreement_id: str
    kind: str
    property_id: str | None
    employer_id: str | None
    grid_id: str
    revoked_at: datetime

    def subject(self) -> str:
        return self.property_id or self.employer_id or self.agreement_id


class AgreementExpired(Event):
    """An agreement's last day passed without a renewal: its subject has no agreement now."""

    name: ClassVar[str] = "registration.AgreementExpired"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agreement_id": "9d5b4fc5-7aa7-42f7-960d-c9d2676ed6f0",
                    "kind": "landlord",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "employer_id": None,
                    "grid_id": "WT-G03",
                    "valid_until": "2027-03-01",
                    "expired_at": "2027-03-01T16:00:00Z",
                },
                {
                    "agreement_id": "1a7869ba-6686-4843-9834-c19771e4baf8",
                    "kind": "employer",
                    "property_id": None,
                    "employer_id": "851474a5-ac43-4c69-8ee4-4010c65cdfc9",
                    "grid_id": "WT-G07",
                    "valid_until": "2029-01-11",
                    "expired_at": "2029-01-11T16:00:00Z",
                },
            ]
        }
    )

    agreement_id: str
    kind: str
    property_id: str | None
    employer_id: str | None
    grid_id: str
    valid_until: date
    expired_at: datetime

    def subject(self) -> str:
        return self.property_id or self.employer_id or self.agreement_id


# -- reconciliation with external feeds (see registration.domain.reconciliation) -------------
# Keyed by the property id, so a building's leads stay in order with its residences. The
# person is referred to by ``subject_ref`` (pseudonymous, derived from the keyed hash of the
# identity number, also for people registration does not know) and, when registration
# knows them, ``person_ref``; identity numbers appear masked only.


class LeadSource(StrEnum):
    """Which external feed raised a lead."""

    ACCESS_CONTROL = "access_control"
    FIVE_ELEMENTS = "five_elements"


class LeadOutcome(StrEnum):
    """How a lead was closed: an officer's verification, or a declaration that explained it."""

    RESIDES_HERE = "resides_here"
    NOT_FOUND = "not_found"
    VISITOR = "visitor"
    MOVED_AWAY = "moved_away"
    DECLARED = "declared"


class LeadEvidence(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    source: LeadSource
    sightings: int = Field(ge=0, description="Access-control entries counted in the window")
    distinct_days: int = Field(ge=0, description="Local days with at least one entry")
    first_seen: datetime | None = Field(description="First counted entry, if any")
    last_seen: datetime | None = Field(description="Last counted entry, if any")
    window_start: date = Field(description="First local day of the window counted")
    window_days: int = Field(ge=1, description="Length of the window under the lead policy")
    list_id: str | None = Field(
        default=None, description="The five-elements list that named the person, if any"
    )


class UnregisteredOccupantSuspected(Event):
    """A person is seen at (or listed for) a property where no residence is declared: a lead."""

    name: ClassVar[str] = "registration.UnregisteredOccupantSuspected"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lead_id": "6bd1d7c8-37e5-4335-9815-ad39dc3937bd",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "subject_ref": "S0c9e4b27d81f6a35e2b7d40",
                    "person_ref": None,
                    "id_number_masked": "3604**********004X",
                    "evidence": {
                        "source": "access_control",
                        "sightings": 5,
                        "distinct_days": 3,
                        "first_seen": "2026-03-04T11:02:37Z",
                        "last_seen": "2026-03-07T12:48:05Z",
                        "window_start": "2026-03-01",
                        "window_days": 7,
                        "list_id": None,
                    },
                    "policy_version": "default-2026",
                    "suspected_at": "2026-03-07T12:48:06Z",
                }
            ]
        }
    )

    lead_id: str
    property_id: str
    grid_id: str
    subject_ref: str = Field(
        description="Stable pseudonymous reference of the person (known to registration or not)"
    )
    person_ref: str | None = Field(
        description="The person's person_ref, if registration knows them"
    )
    id_number_masked: str = Field(description="Identity number with the middle masked")
    evidence: LeadEvidence
    policy_version: str = Field(description="The lead policy the evidence was judged by")
    suspected_at: datetime

    def subject(self) -> str:
        return self.property_id


class LeadClosed(Event):
    """A lead was closed: verified by an officer, or explained by a declaration."""

    name: ClassVar[str] = "registration.LeadClosed"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lead_id": "6bd1d7c8-37e5-4335-9815-ad39dc3937bd",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "grid_id": "WT-G03",
                    "subject_ref": "S0c9e4b27d81f6a35e2b7d40",
                    "person_ref": None,
                    "outcome": "resides_here",
                    "verification_id": "57968989-0762-49e7-a2e5-471c18ca55ae",
                    "residence_id": None,
                    "registration_needed": True,
                    "closed_at": "2026-03-09T03:27:44Z",
                }
            ]
        }
    )

    lead_id: str
    property_id: str
    grid_id: str
    subject_ref: str
    person_ref: str | None
    outcome: LeadOutcome
    verification_id: str | None = Field(description="Inspection's verification, if verified")
    residence_id: str | None = Field(
        description="The residence declared on the officer's verification, if one was"
    )
    registration_needed: bool = Field(
        description="Resides here but is not registered yet: the officer registers the person"
    )
    closed_at: datetime

    def subject(self) -> str:
        return self.property_id


# -- persons and move-outs ------------------------------------------------------------------
# Person events are keyed by ``person_ref``. The public ones carry the pseudonym, the masked
# identity number and derived facts only; the full identity record goes to the restricted
# topic below, never to ``registration.events``.

PERSONS_TOPIC = "registration.persons.restricted"
"""Restricted topic: full identity records, for entitled consumers only (Kafka ACLs)."""


class PersonCorrectionSource(StrEnum):
    """What changed a person record after it was created."""

    CORRECTION = "correction"  # office staff corrected it (PATCH /persons/{person_ref})
    DECLARATION = "declaration"  # a later declaration brought new contact details


class IdentityRecordChange(StrEnum):
    """Why a version of a person's identity record was recorded."""

    REGISTERED = "registered"
    CORRECTION = "correction"
    DECLARATION = "declaration"


class PersonRegistered(Event):
    """A person record was created: the first declaration of this identity number."""

    name: ClassVar[str] = "registration.PersonRegistered"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_ref": "Pa7092e1ee4b00279151936b",
                    "id_number_masked": "4304**********0020",
                    "gender": "female",
                    "birth_year": 1992,
                    "origin_region": "430421",
                    "registered_at": "2026-03-03T02:14:09Z",
                }
            ]
        }
    )

    person_ref: str = Field(description="Stable pseudonymous reference of the person")
    id_number_masked: str = Field(description="Identity number with the middle masked")
    gender: str
    birth_year: int
    origin_region: str = Field(description="Six-digit region code of household registration")
    registered_at: datetime

    def subject(self) -> str:
        return self.person_ref


class PersonCorrected(Event):
    """A person record changed. Names the changed fields only, never their values."""

    name: ClassVar[str] = "registration.PersonCorrected"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_ref": "Pa7092e1ee4b00279151936b",
                    "record_version": 2,
                    "changed_fields": ["phone"],
                    "via": "declaration",
                    "id_number_masked": "4304**********0020",
                    "gender": "female",
                    "birth_year": 1992,
                    "origin_region": "430421",
                    "corrected_at": "2026-05-18T08:03:27Z",
                }
            ]
        }
    )

    person_ref: str = Field(description="Stable: an identity number correction keeps it")
    record_version: int = Field(ge=2, description="Version of the record after the change")
    changed_fields: list[str] = Field(
        description="Names of the changed fields: id_number, name, phone, gender, birth_date, "
        "origin_region"
    )
    via: PersonCorrectionSource
    id_number_masked: str = Field(description="Current identity number, masked")
    gender: str = Field(description="Current value (derived from the identity number)")
    birth_year: int = Field(description="Current value (derived from the identity number)")
    origin_region: str = Field(description="Current value (derived from the identity number)")
    corrected_at: datetime

    def subject(self) -> str:
        return self.person_ref


class PersonIdentityRecorded(Event):
    """RESTRICTED. A version of a person's full identity record: on creation and every change.

    Published on ``registration.persons.restricted`` only, for consumers entitled to
    personal data; never on ``registration.events``.
    """

    name: ClassVar[str] = "registration.PersonIdentityRecorded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = PERSONS_TOPIC
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_ref": "Pa7092e1ee4b00279151936b",
                    "record_version": 1,
                    "change": "registered",
                    "changed_fields": [],
                    "id_number": "430421199203150020",
                    "previous_id_number": None,
                    "full_name": "Li Si",
                    "phone": "13912345678",
                    "gender": "female",
                    "birth_date": "1992-03-15",
                    "origin_region": "430421",
                    "recorded_at": "2026-03-03T02:14:09Z",
                }
            ]
        }
    )

    person_ref: str
    record_version: int = Field(ge=1, description="1 on creation, +1 per change")
    change: IdentityRecordChange
    changed_fields: list[str] = Field(description="Empty on creation")
    id_number: str = Field(description="Resident identity number (GB 11643), in full")
    previous_id_number: str | None = Field(
        default=None, description="Set when this version corrected the identity number"
    )
    full_name: str
    phone: str | None = None
    gender: str
    birth_date: date
    origin_region: str
    recorded_at: datetime

    def subject(self) -> str:
        return self.person_ref


class ResidenceEndReason(StrEnum):
    MOVED_OUT = "moved_out"  # the landlord or the office declared the move-out
    MOVED_ELSEWHERE = "moved_elsewhere"  # a move-in elsewhere was declared for the person
    CORRECTED = "corrected"  # the residence was declared in error


class ResidenceEnded(Event):
    """A person's residence in a room ended (move-out, move-in elsewhere, or correction).

    Keyed by the property id of the residence that ended, like its ``ResidenceDeclared``.
    """

    name: ClassVar[str] = "registration.ResidenceEnded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = TOPIC
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

    def subject(self) -> str:
        return self.property_id
