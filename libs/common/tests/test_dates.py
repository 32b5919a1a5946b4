"""Client dates are bounded so that no arithmetic on them overflows (issue 7)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from common.dates import EARLIEST_DAY, LATEST_DAY, MONTH_PATTERN, Day, Moment, day_problem


class Dated(BaseModel):
    day: Day | None = None
    at: Moment | None = None


@pytest.mark.parametrize("day", ["1900-01-01", "2026-03-02", "2199-12-31"])
def test_a_day_within_the_bounds_is_accepted(day: str) -> None:
    assert Dated(day=day).day == date.fromisoformat(day)


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_day_outside_the_bounds_is_refused_naming_the_field(day: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Dated(day=day)
    assert caught.value.errors()[0]["loc"] == ("day",)


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_an_instant_whose_timezone_conversion_would_overflow_is_refused(at: str) -> None:
    with pytest.raises(ValidationError):
        Dated(at=at)


def test_an_accepted_instant_converts_to_any_timezone() -> None:
    from datetime import timedelta, timezone

    for edge in ("1900-01-02T00:00:00Z", "2199-12-30T00:00:00Z"):
        moment = Dated(at=edge).at
        assert moment is not None
        for hours in (-12, 14):
            assert moment.astimezone(timezone(timedelta(hours=hours))).year in (1900, 1901, 2199)


@pytest.mark.parametrize(
    ("month", "ok"),
    [
        ("1900-01", True),
        ("2026-03", True),
        ("2199-12", True),
        ("1899-12", False),
        ("2200-01", False),
        ("9999-12", False),
        ("2026-13", False),
        ("2026-00", False),
    ],
)
def test_the_month_pattern_covers_the_years_of_a_day(month: str, ok: bool) -> None:
    assert bool(re.match(MONTH_PATTERN, month)) is ok


def test_day_problem_for_dates_parsed_from_files() -> None:
    assert day_problem(EARLIEST_DAY) is None and day_problem(LATEST_DAY) is None
    assert "between 1900-01-01 and 2199-12-31" in (day_problem(date(9999, 12, 31)) or "")
