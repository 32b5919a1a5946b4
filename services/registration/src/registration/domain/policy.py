"""Declaration policy: values set by decree, held in configuration, not in handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from common.dates import LATEST_DAY
from common.errors import DomainError
from common.identifiers import ascii_digits
from common.workdays import WorkingCalendar

CHINA_TIME = timezone(timedelta(hours=8), "UTC+08:00")


@dataclass(frozen=True)
class DeclarationPolicy:
    """How long a landlord has to declare a move-in.

    ``source`` names the rule the value comes from, so an office can check and change it
    when its city's regulation changes.
    """

    deadline_working_days: int = 3
    version: str = "default-2026"
    source: str = "Declaration within 3 working days of a move-in (default; set per city)"
    timezone: tzinfo = CHINA_TIME
    """The office's local time: a move-in "today" is today there, not in UTC."""
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar.mainland)
    """The working days the deadline counts: public holidays and make-up days included."""

    def local_date(self, moment: datetime) -> date:
        """The office's date at ``moment``."""
        return moment.astimezone(self.timezone).date()

    def deadline(self, moved_in_on: date) -> date:
        """The last day a move-in on ``moved_in_on`` may be declared on time: the
        ``deadline_working_days``-th working day after it, in the office's calendar."""
        return self.calendar.add_working_days(moved_in_on, self.deadline_working_days)


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, raw: str, *, field: str = "month") -> Month:
        text = raw.strip()
        if len(text) != 7 or text[4] != "-" or not ascii_digits(text[:4] + text[5:]):
            raise DomainError(field, "must be a month written YYYY-MM")
        year, month = int(text[:4]), int(text[5:])
        if not 1 <= month <= 12 or not 2000 <= year <= LATEST_DAY.year:
            raise DomainError(field, f"{text} is not a month this office can report on")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return self.next().first_day() - timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class EmployerReturnPolicy:
    """When an employer's monthly return (每月統計、逐月上報) is due.

    The return of month M is due at 00:00, local time, on day ``due_day`` of month M+1
    (a return filed before that instant is on time). ``timezone`` is the office's local
    time; the days of a month, hire dates and deadlines are reckoned in it.
    """

    due_day: int = 5
    timezone: tzinfo = CHINA_TIME
    version: str = "default-2026"
    source: str = (
        "Monthly employment return (headcount, hires, leavers) due on the 5th of the "
        "following month, 00:00 China time (default; set per city)"
    )

    def __post_init__(self) -> None:
        if not 1 <= self.due_day <= 28:
            raise ValueError("due_day must be 1..28 so that every month has it")

    def due_at(self, month: Month) -> datetime:
        """The deadline of ``month``'s return, timezone-aware (UTC)."""
        following = month.next()
        local = datetime(following.year, following.month, self.due_day, tzinfo=self.timezone)
        return local.astimezone(UTC)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()

    def month_of(self, moment: datetime) -> Month:
        return Month.of(self.local_date(moment))
