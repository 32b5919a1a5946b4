"""The dates and instants a client may give: bounded, so no arithmetic on them overflows.

Python's dates end at 9999-12-31: a deadline, a month or a timezone conversion computed
from a day near it raised ``OverflowError`` or ``ValueError`` (a 500, or a consumer's
retries). Request models type their dates :data:`Day` and instants :data:`Moment`, month
parameters match :data:`MONTH_PATTERN`, and parsers of uploaded files call
:func:`day_problem`: all refuse, with a 422 naming the field, what lies outside.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
"""The days a client may name. Python's dates end at 9999-12-31, so a deadline or a month
computed from a day near it overflowed (a 500); these bounds leave every real date of the
office (births, tenancies, agreements valid for decades) and room for any arithmetic."""

Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
"""A client's date, between :data:`EARLIEST_DAY` and :data:`LATEST_DAY` (else a 422)."""

Moment = Annotated[
    AwareDatetime,
    Field(
        ge=datetime(EARLIEST_DAY.year, 1, 2, tzinfo=UTC),
        le=datetime(LATEST_DAY.year, 12, 30, tzinfo=UTC),
    ),
]
"""A client's instant, with its UTC offset, within the same bounds (and a day inside them,
so that converting it to any timezone stays within Python's range)."""

MONTH_PATTERN = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"
"""A month ``YYYY-MM`` within the years of :data:`Day`."""


def day_problem(value: date) -> str | None:
    """Why a date parsed from a file (a CSV upload) is refused, or None."""
    if EARLIEST_DAY <= value <= LATEST_DAY:
        return None
    return f"must be between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}"
