"""Unified social credit codes of organisations (GB 32100-2015): validation offline.

An 18-character code: position 1 the registration department, 2 the organisation type,
3-8 the administrative division of the registering authority, 9-17 the organisation
code, 18 a check character. The alphabet is the digits and the capital letters without
I, O, Z, S and V (31 characters, each worth its index); the check character is
``(31 - sum(value_i * weight_i) mod 31) mod 31`` over the first 17.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.errors import DomainError
from common.identifiers import ascii_digits, normalise_code

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Position 1: the registration management department (机构编制 1, 外交 2, 司法行政 3,
# 文化 4, 民政 5, 旅游 6, 宗教 7, 工会 8, 市场监管/工商 9, 中央军委 A, 农业 N, 其他 Y).
DEPARTMENTS = frozenset("123456789ANY")
# Position 2: the organisation type within the department (1-9; 9 is "other").
ORGANISATION_TYPES = frozenset("123456789")


def check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (all from :data:`CHARSET`)."""
    if len(first17) != 17 or any(c not in _VALUES for c in first17):
        raise ValueError("need 17 characters of the credit code alphabet")
    total = sum(_VALUES[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def with_check_character(first17: str) -> str:
    """A complete valid code from its first 17 characters (tests, demo data)."""
    return first17 + check_character(first17)


@dataclass(frozen=True)
class CreditCode:
    value: str

    @property
    def department(self) -> str:
        return self.value[0]

    @property
    def organisation_type(self) -> str:
        return self.value[1]

    @property
    def region_code(self) -> str:
        return self.value[2:8]

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, raw: str, *, field: str = "credit_code") -> CreditCode:
        """Validate a code; raise :class:`DomainError` on ``field`` saying what is wrong."""
        value = normalise_code(raw)
        if len(value) != 18:
            raise DomainError(field, "must be 18 characters (GB 32100 unified social credit code)")
        bad = sorted({c for c in value if c not in _VALUES})
        if bad:
            raise DomainError(
                field,
                f"contains {''.join(bad)!r}: only digits and capital letters "
                "other than I, O, S, V, Z are used",
            )
        if value[0] not in DEPARTMENTS:
            raise DomainError(field, f"registration department code {value[0]!r} is not known")
        if value[1] not in ORGANISATION_TYPES:
            raise DomainError(field, f"organisation type code {value[1]!r} is not known")
        if not ascii_digits(value[2:8]):
            raise DomainError(field, f"administrative division {value[2:8]!r} is not 6 digits")
        if check_character(value[:17]) != value[17]:
            raise DomainError(field, "check character does not match (GB 32100)")
        return cls(value)
