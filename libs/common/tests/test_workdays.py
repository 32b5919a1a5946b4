"""The working-day calendar: mainland China's holidays, make-up days and an office's file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.settings import ServiceSettings
from common.workdays import WorkingCalendar, load_calendar

MAINLAND = WorkingCalendar.mainland()


def test_national_day_2025_and_its_make_up_saturday() -> None:
    # 1-8 October 2025 off; Sunday 28 September and Saturday 11 October worked instead.
    assert not MAINLAND.is_working_day(date(2025, 10, 1))
    assert not MAINLAND.is_working_day(date(2025, 10, 8))
    assert MAINLAND.is_working_day(date(2025, 9, 28))
    assert MAINLAND.is_working_day(date(2025, 10, 11))
    assert not MAINLAND.is_working_day(date(2025, 10, 12))

    assert MAINLAND.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert MAINLAND.add_working_days(date(2025, 9, 27), 3) == date(2025, 9, 30)
    assert WorkingCalendar().add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 3)


def test_zero_days_is_the_start_and_negative_days_are_refused() -> None:
    assert MAINLAND.add_working_days(date(2025, 10, 4), 0) == date(2025, 10, 4)
    with pytest.raises(ValueError, match="negative"):
        MAINLAND.add_working_days(date(2025, 10, 4), -1)


def test_a_year_without_a_notice_counts_monday_to_friday() -> None:
    assert MAINLAND.covers(2026)
    assert not MAINLAND.covers(2031)
    assert MAINLAND.add_working_days(date(2031, 1, 3), 3) == date(2031, 1, 8)  # Fri -> Wed


def _file(tmp_path: Path, **content: object) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def test_an_office_file_adds_a_year_and_wins_over_the_package(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        source="2027年部分节假日安排",
        holidays=["2027-01-01", "2025-10-11"],
        workdays=["2027-01-02"],
    )

    calendar = load_calendar(path)

    assert calendar.covers(2027)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 2))  # a Saturday worked
    assert not calendar.is_working_day(date(2025, 10, 11))  # the package said worked
    assert calendar.add_working_days(date(2026, 12, 31), 3) == date(2027, 1, 5)
    assert MAINLAND.add_working_days(date(2026, 12, 31), 3) == date(2027, 1, 5)
    assert "2027年部分节假日安排" in calendar.source


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"holidays": ["2027-13-01"]}, "month must be in 1..12"),
        ({"holidays": ["2027-01-04"], "workdays": ["2027-01-04"]}, "both a holiday"),
        ({"holidays": "2027-01-04"}, "Invalid isoformat"),
    ],
)
def test_a_bad_calendar_file_fails_at_start_naming_the_file(
    tmp_path: Path, content: dict[str, object], message: str
) -> None:
    path = _file(tmp_path, **content)

    with pytest.raises(ValidationError, match=message) as caught:
        ServiceSettings(working_calendar_file=path)
    assert "calendar.json" in str(caught.value)


def test_settings_give_the_mainland_calendar_by_default() -> None:
    assert ServiceSettings().working_calendar() == MAINLAND
