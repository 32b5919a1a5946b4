"""Persons: pseudonymous public events and the restricted identity record.

Person events are keyed by ``person_ref``. The public ones carry the pseudonym, the masked
identity number and derived facts only; the full identity record goes to the restricted
topic ``registration.persons.restricted``, never to ``registration.events``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from registration.events.base import PERSONS_TOPIC, RegistrationEvent


class PersonCorrectionSource(StrEnum):
    """What changed a person record after it was created."""

    CORRECTION = "correction"  # office staff corrected it (PATCH /persons/{person_ref})
    DECLARATION = "declaration"  # a later declaration brought new contact details


class IdentityRecordChange(StrEnum):
    """Why a version of a person's identity record was recorded."""

    REGISTERED = "registered"
    CORRECTION = "correction"
    DECLARATION = "declaration"


class PersonRegistered(RegistrationEvent, key="person_ref"):
    """A person record was created: the first declaration of this identity number."""

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


class PersonCorrected(RegistrationEvent, key="person_ref"):
    """A person record changed. Names the changed fields only, never their values."""

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


class PersonIdentityRecorded(RegistrationEvent, key="person_ref", topic=PERSONS_TOPIC):
    """RESTRICTED. A version of a person's full identity record: on creation and every change.

    Published on ``registration.persons.restricted`` only, for consumers entitled to
    personal data; never on ``registration.events``.
    """

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
