"""The one working-day calendar every deadline in the platform counts in.

Mainland China's public holidays and make-up working days (调休: a Saturday or Sunday
worked in exchange for a longer holiday) come from the State Council's yearly notices,
as tabulated by the maintained ``chinese-calendar`` package (2004 to the last year it
has published). An office may add or correct days with a calendar file of its own (a
notice the package has not caught up with, a local holiday)::

    {
      "source": "国务院办公厅关于2027年部分节假日安排的通知",
      "holidays": ["2027-01-01", "2027-02-06"],
      "workdays": ["2027-02-14"]
    }

A date the file names wins over the package. A year neither covers counts Monday to
Friday, and :meth:`WorkingCalendar.covers` says so, so that readiness or a report can
warn that the year's notice is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from chinese_calendar import constants as mainland  # type: ignore[import-untyped]


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days: weekdays, minus holidays, plus make-up days."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    """Make-up working days (a weekend day worked)."""
    years: frozenset[int] = frozenset()
    """Years whose holidays are known; others count Monday to Friday."""
    source: str = "Monday to Friday"

    @classmethod
    def mainland(cls) -> WorkingCalendar:
        """Mainland China's calendar, from the State Council's notices (built once)."""
        return _mainland()

    def with_overrides(
        self, *, holidays: Iterable[date], workdays: Iterable[date], source: str
    ) -> WorkingCalendar:
        """This calendar with the given days set: each date named wins over this one."""
        off, on = frozenset(holidays), frozenset(workdays)
        if both := off & on:
            raise ValueError(f"{min(both)} is both a holiday and a working day")
        return WorkingCalendar(
            holidays=(self.holidays - on) | off,
            workdays=(self.workdays - off) | on,
            years=self.years | {d.year for d in off | on},
            source=f"{self.source}; {source}",
        )

    def covers(self, year: int) -> bool:
        """Whether ``year``'s holidays are known (else it counts Monday to Friday)."""
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself with 0)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day


def load_calendar(path: Path | None, base: WorkingCalendar | None = None) -> WorkingCalendar:
    """Mainland China's calendar (or ``base``) with an office's calendar file applied."""
    calendar = base or WorkingCalendar.mainland()
    if path is None:
        return calendar
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        source = str(raw.get("source") or path.name)
        holidays = [date.fromisoformat(d) for d in raw.get("holidays", [])]
        workdays = [date.fromisoformat(d) for d in raw.get("workdays", [])]
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"working calendar {path}: {exc}") from exc
    return calendar.with_overrides(holidays=holidays, workdays=workdays, source=source)


@cache
def _mainland() -> WorkingCalendar:
    return WorkingCalendar(
        holidays=frozenset(mainland.holidays),
        workdays=frozenset(mainland.workdays),
        years=frozenset(d.year for d in mainland.holidays),
        source="State Council holiday notices (chinese-calendar)",
    )
