"""Mainland resident identity numbers (GB 11643): validation and derived facts, for every
service that takes one (registration's declarations, inspection's visits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from common.errors import DomainError
from common.identifiers import ascii_digits, normalise_code

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Province-level codes (the first two digits of the region code).
_PROVINCES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
    }
)


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class ResidentId:
    value: str
    region_code: str
    birth_date: date
    gender: Gender

    @classmethod
    def parse(cls, raw: str, *, today: date, field: str = "id_number") -> ResidentId:
        """Validate an 18-character identity number; raise :class:`DomainError` on ``field``."""
        value = normalise_code(raw)
        if len(value) != 18 or not ascii_digits(value[:17]) or value[17] not in "0123456789X":
            raise DomainError(field, "must be 18 characters: 17 digits and a digit or X")
        if int(value[:2]) not in _PROVINCES:
            raise DomainError(field, f"region code {value[:6]} is not a mainland region")
        try:
            born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            raise DomainError(field, f"birth date {value[6:14]} is not a date") from None
        if born > today or born.year < 1900:
            raise DomainError(field, f"birth date {born.isoformat()} is out of range")
        if check_character(value[:17]) != value[17]:
            raise DomainError(field, "check character does not match (ISO 7064 MOD 11-2)")
        return cls.of_validated(value)

    @classmethod
    def of_validated(cls, value: str) -> ResidentId:
        """The derived facts of a number validated earlier (a stored one): no checks.

        Region, birth date and gender are recomputed from the number itself, so a
        corrected number brings its own facts.
        """
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        gender = Gender.MALE if int(value[16]) % 2 else Gender.FEMALE
        return cls(value=value, region_code=value[:6], birth_date=born, gender=gender)
