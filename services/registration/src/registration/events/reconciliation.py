"""Reconciliation with external feeds (see registration.domain.reconciliation).

Keyed by the property id, so a building's leads stay in order with its residences. The
person is referred to by ``subject_ref`` (pseudonymous, derived from the keyed hash of the
identity number, also for people registration does not know) and, when registration knows
them, ``person_ref``; identity numbers appear masked only.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from registration.events.base import RegistrationEvent


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


class UnregisteredOccupantSuspected(RegistrationEvent, key="property_id"):
    """A person is seen at (or listed for) a property where no residence is declared: a lead."""

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


class LeadClosed(RegistrationEvent, key="property_id"):
    """A lead was closed: verified by an officer, or explained by a declaration."""

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
