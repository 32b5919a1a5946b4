"""Responsibility agreements (責任書), see registration.domain.agreements.

Keyed by the agreement's subject: the property id (landlord and tenant agreements) or the
employer id (employer agreements), so they stay in order with that aggregate's events.
``kind`` is a string, not an enum: new kinds (an anti-fraud responsibility agreement, say)
must not break subscribers validating against v1.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ConfigDict, Field

from common.events import FreeText
from registration.events.base import RegistrationEvent


class AgreementSigned(RegistrationEvent):
    """A responsibility agreement (責任書) was signed with the office."""

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
    counterpart_office: FreeText = Field(description="The police office that counter-signed")
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


class AgreementRenewed(RegistrationEvent):
    """A new agreement replaced (superseded) an earlier one for the same subject."""

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
    counterpart_office: FreeText
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


class AgreementRevoked(RegistrationEvent):
    """The office revoked an agreement before its end."""

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


class AgreementExpired(RegistrationEvent):
    """An agreement's last day passed without a renewal: its subject has no agreement now."""

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
