"""Person records: created once, changed as new versions, public events without personal data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from common.errors import DomainError
from common.identity import Gender, ResidentId, check_character
from registration.domain.persons import Identity, Person, checked_name, checked_phone
from registration.events import (
    PERSONS_TOPIC,
    TOPIC,
    IdentityRecordChange,
    PersonCorrected,
    PersonCorrectionSource,
    PersonIdentityRecorded,
    PersonRegistered,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


def rid(first17: str) -> ResidentId:
    return ResidentId.parse(first17 + check_character(first17), today=NOW.date())


MAN_1990 = rid("44030619900101123")  # Shenzhen Bao'an, male
WOMAN_1985 = rid("51010719850615002")  # Chengdu, female


def registered(name: str = "王小明", phone: str | None = "13800138000") -> Person:
    return Person.register(ref="Pref", identity=Identity(MAN_1990, name, phone), now=NOW)


def test_a_new_record_is_public_as_a_pseudonym_and_in_full_on_the_restricted_topic() -> None:
    person = registered()

    public, restricted = person.events
    assert public == PersonRegistered(
        person_ref="Pref",
        id_number_masked=MAN_1990.value[:4] + "*" * 10 + MAN_1990.value[-4:],
        gender="male",
        birth_year=1990,
        origin_region="440306",
        registered_at=NOW,
    )
    assert public.topic == TOPIC and public.subject() == "Pref"
    assert isinstance(restricted, PersonIdentityRecorded)
    assert restricted.topic == PERSONS_TOPIC and restricted.subject() == "Pref"
    assert (restricted.record_version, restricted.change, restricted.changed_fields) == (
        1,
        IdentityRecordChange.REGISTERED,
        [],
    )
    assert (restricted.id_number, restricted.full_name, restricted.phone) == (
        MAN_1990.value,
        "王小明",
        "13800138000",
    )
    assert restricted.birth_date == date(1990, 1, 1)
    assert person.version == 1


def test_correcting_name_and_phone_is_a_new_version_naming_the_fields_only() -> None:
    person = registered()
    person.events.clear()

    changed = person.correct(Identity(MAN_1990, "王晓明", "13900139000"), now=LATER)

    assert changed == ["name", "phone"]
    assert person.version == 2
    corrected, recorded = person.events
    assert isinstance(corrected, PersonCorrected)
    assert (corrected.record_version, corrected.changed_fields, corrected.via) == (
        2,
        ["name", "phone"],
        PersonCorrectionSource.CORRECTION,
    )
    body = corrected.model_dump_json()
    for secret in ("王晓明", "王小明", "13900139000", "13800138000", MAN_1990.value):
        assert secret not in body and json.dumps(secret) not in body
    assert isinstance(recorded, PersonIdentityRecorded)
    assert (recorded.full_name, recorded.phone, recorded.change) == (
        "王晓明",
        "13900139000",
        IdentityRecordChange.CORRECTION,
    )
    assert recorded.previous_id_number is None


def test_correcting_the_identity_number_keeps_the_ref_and_recomputes_derived_facts() -> None:
    person = registered()
    person.events.clear()

    changed = person.correct(Identity(WOMAN_1985, "王小明", "13800138000"), now=LATER)

    assert changed == ["id_number", "gender", "birth_date", "origin_region"]
    assert person.ref == "Pref"
    assert person.identity.resident_id.gender is Gender.FEMALE
    corrected, recorded = person.events
    assert isinstance(corrected, PersonCorrected)
    assert (corrected.gender, corrected.birth_year, corrected.origin_region) == (
        "female",
        1985,
        "510107",
    )
    assert corrected.id_number_masked.endswith(WOMAN_1985.value[-4:])
    assert isinstance(recorded, PersonIdentityRecorded)
    assert (recorded.id_number, recorded.previous_id_number) == (WOMAN_1985.value, MAN_1990.value)
    assert recorded.birth_date == date(1985, 6, 15)


def test_a_correction_that_changes_nothing_is_no_version_and_no_event() -> None:
    person = registered()
    person.events.clear()

    assert person.correct(Identity(MAN_1990, "王小明", "13800138000"), now=LATER) == []
    assert person.version == 1
    assert person.events == []


def test_a_declaration_without_a_phone_keeps_the_phone_and_changes_the_name() -> None:
    person = registered()
    person.events.clear()

    changed = person.update_contact(name="王晓明", phone=None, now=LATER)

    assert changed == ["name"]
    assert person.identity.phone == "13800138000"
    corrected = person.events[0]
    assert isinstance(corrected, PersonCorrected)
    assert corrected.via is PersonCorrectionSource.DECLARATION


@pytest.mark.parametrize(
    ("raw", "message"),
    [("  ", "must not be empty"), ("x" * 101, "at most 100")],
    ids=["blank", "too-long"],
)
def test_a_name_must_be_given_and_bounded(raw: str, message: str) -> None:
    with pytest.raises(DomainError, match=message) as error:
        checked_name(raw)
    assert error.value.field == "name"


@pytest.mark.parametrize("raw", ["12345", "23800138000", "1380013800a"])
def test_a_phone_is_a_mainland_mobile_number(raw: str) -> None:
    with pytest.raises(DomainError) as error:
        checked_phone(raw)
    assert error.value.field == "phone"
    assert checked_phone(" 13800138000 ") == "13800138000"
    assert checked_phone(None) is None


def test_a_stored_number_gives_the_same_facts_as_a_parsed_one() -> None:
    assert ResidentId.of_validated(WOMAN_1985.value) == WOMAN_1985
    assert ResidentId.of_validated(MAN_1990.value) == MAN_1990
