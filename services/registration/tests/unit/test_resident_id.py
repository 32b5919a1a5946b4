"""Resident identity numbers (GB 11643): what is accepted and what is derived from them."""

from __future__ import annotations

from datetime import date

import pytest

from common.errors import DomainError
from common.identity import Gender, ResidentId, check_character

TODAY = date(2026, 3, 4)


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def test_valid_number_parses_with_region_birth_date_and_gender() -> None:
    number = with_check("44030619900101123")

    person = ResidentId.parse(number, today=TODAY)

    assert person == ResidentId(
        value=number,
        region_code="440306",
        birth_date=date(1990, 1, 1),
        gender=Gender.MALE,  # 17th digit 3 is odd
    )


def test_even_sequence_digit_means_female() -> None:
    person = ResidentId.parse(with_check("51010719850615002"), today=TODAY)

    assert person.gender is Gender.FEMALE
    assert person.birth_date == date(1985, 6, 15)
    assert person.region_code == "510107"


def test_check_character_is_iso_7064_mod_11_2() -> None:
    # The published example number of GB 11643.
    assert check_character("11010519491231002") == "X"
    assert check_character("44030619900101123") == "6"


def test_lowercase_x_check_character_is_accepted_and_normalised() -> None:
    person = ResidentId.parse(" 11010519491231002x ", today=TODAY)

    assert person.value == "11010519491231002X"
    assert person.gender is Gender.FEMALE
    assert person.birth_date == date(1949, 12, 31)


def test_wrong_check_character_is_rejected() -> None:
    number = with_check("44030619900101123")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")

    with pytest.raises(DomainError, match="check character") as error:
        ResidentId.parse(wrong, today=TODAY)

    assert error.value.field == "id_number"


def test_impossible_birth_date_is_rejected() -> None:
    with pytest.raises(DomainError, match="19900230 is not a date") as error:
        ResidentId.parse(with_check("44030619900230123"), today=TODAY)

    assert error.value.field == "id_number"


@pytest.mark.parametrize("first17", ["99030619900101123", "00030619900101123"])
def test_region_outside_the_mainland_codes_is_rejected(first17: str) -> None:
    with pytest.raises(DomainError, match="not a mainland region"):
        ResidentId.parse(with_check(first17), today=TODAY)


@pytest.mark.parametrize("birth", ["20260305", "18991231"])
def test_birth_date_in_the_future_or_before_1900_is_rejected(birth: str) -> None:
    with pytest.raises(DomainError, match="out of range"):
        ResidentId.parse(with_check(f"440306{birth}123"), today=TODAY)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "44030619900101123",  # 17 characters
        "4403061990010112366",  # 19 characters
        "4403061990010112A6",  # a letter among the first 17
        "44030619900101123Y",  # check character neither digit nor X
    ],
)
def test_malformed_number_is_rejected(raw: str) -> None:
    with pytest.raises(DomainError, match="17 digits and a digit or X"):
        ResidentId.parse(raw, today=TODAY)


def test_the_error_names_the_field_it_was_given() -> None:
    with pytest.raises(DomainError) as error:
        ResidentId.parse("bad", today=TODAY, field="guardian.id_number")

    assert error.value.field == "guardian.id_number"
    assert str(error.value).startswith("guardian.id_number: ")


def test_a_full_width_number_is_the_same_number_in_ascii() -> None:
    number = with_check("44030619900101123")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # "0" -> U+FF10 ...

    assert ResidentId.parse(f" {full_width} ", today=TODAY) == ResidentId.parse(number, today=TODAY)
    assert ResidentId.parse(full_width, today=TODAY).value == number


def test_a_superscript_digit_is_normalised_like_a_full_width_one() -> None:
    number = with_check("44030219900101123")
    assert ResidentId.parse(number[:5] + "\u00b2" + number[6:], today=TODAY).value == number


# Arabic-Indic three, Devanagari four, a Thai three: digits to isdigit(), not to NFKC.
@pytest.mark.parametrize("digit", ["\u0663", "\u096a", "\u0e53"])
def test_a_digit_that_is_not_ascii_after_normalising_is_a_domain_error(digit: str) -> None:
    number = with_check("44030619900101123")
    with pytest.raises(DomainError, match="17 digits"):
        ResidentId.parse(number[:5] + digit + number[6:], today=TODAY)
