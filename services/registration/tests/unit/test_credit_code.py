"""Unified social credit codes (GB 32100-2015): what is accepted and why the rest is not."""

from __future__ import annotations

import pytest

from common.errors import DomainError
from registration.domain.credit_code import (
    CHARSET,
    CreditCode,
    check_character,
    with_check_character,
)

# Codes published by the organisations themselves (and the example of the standard).
PUBLISHED = [
    "91350100M000100Y43",
    "9144030071526726XG",
    "91330100716105852F",
    "91110000802100433B",
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    parsed = CreditCode.parse(code)

    assert parsed.value == code
    assert check_character(code[:17]) == code[17]


def test_parts_of_a_code() -> None:
    code = CreditCode.parse("91350100M000100Y43")

    assert (code.department, code.organisation_type, code.region_code) == ("9", "1", "350100")


def test_lower_case_and_surrounding_spaces_are_normalised() -> None:
    assert CreditCode.parse("  9144030071526726xg ").value == "9144030071526726XG"


def test_with_check_character_builds_a_valid_code() -> None:
    code = with_check_character("91441900MA4W12345")

    assert len(code) == 18
    assert CreditCode.parse(code).value == code


def test_check_character_is_31_minus_weighted_sum_mod_31() -> None:
    first17 = "91350100M000100Y4"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, weights, strict=True))

    assert check_character(first17) == CHARSET[(31 - total % 31) % 31] == "3"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_forbidden_letters_are_refused_by_name(letter: str) -> None:
    code = "91350100M000100" + letter + "43"

    with pytest.raises(DomainError) as caught:
        CreditCode.parse(code)

    assert caught.value.field == "credit_code"
    assert repr(letter) in caught.value.message


def test_every_wrong_check_character_is_refused() -> None:
    first17 = "91350100M000100Y4"
    for wrong in CHARSET.replace(check_character(first17), ""):
        with pytest.raises(DomainError, match="check character"):
            CreditCode.parse(first17 + wrong)


def test_a_single_changed_character_is_caught() -> None:
    with pytest.raises(DomainError, match="check character"):
        CreditCode.parse("91350100M000200Y43")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y433", "18 characters"),
        ("", "18 characters"),
        ("91350100M000100Y4-", "contains"),
        (with_check_character("B1350100M000100Y4"), "department"),
        (with_check_character("00350100M000100Y4"), "department"),
        (with_check_character("90350100M000100Y4"), "organisation type"),
        (with_check_character("9A350100M000100Y4"), "organisation type"),
        (with_check_character("913501A0M000100Y4"), "administrative division"),
    ],
    ids=[
        "17-chars",
        "19-chars",
        "empty",
        "punctuation",
        "unknown-department",
        "department-zero",
        "type-zero",
        "type-letter",
        "region-letter",
    ],
)
def test_malformed_codes_are_refused(code: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason) as caught:
        CreditCode.parse(code)

    assert caught.value.field == "credit_code"


def test_field_name_can_be_chosen() -> None:
    with pytest.raises(DomainError) as caught:
        CreditCode.parse("x", field="employer.credit_code")

    assert caught.value.field == "employer.credit_code"


def test_check_character_needs_17_characters_of_the_alphabet() -> None:
    with pytest.raises(ValueError, match="17"):
        check_character("9135")
    with pytest.raises(ValueError, match="17"):
        check_character("91350100M000100I4")
