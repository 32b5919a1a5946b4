"""Verification tasks (精準核查): each lead is a task for its grid's officer, due in
working days (policy, the office's calendar); late ones are escalated. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from common.errors import Conflict
from common.workdays import WorkingCalendar

OPEN, DONE, CLOSED = "open", "done", "closed"
"""A task's states: waiting for the officer; verified; closed by registration first."""


@dataclass(frozen=True)
class VerificationPolicy:
    working_days: int
    version: str
    source: str
    timezone: tzinfo
    calendar: WorkingCalendar

    def due_on(self, raised_at: datetime) -> date:
        """The last day to verify a lead raised at ``raised_at``."""
        raised = raised_at.astimezone(self.timezone).date()
        return self.calendar.add_working_days(raised, self.working_days)

    def overdue_at(self, due_on: date) -> datetime:
        """The moment a task due on ``due_on`` is late: the next midnight, local time."""
        midnight = datetime.combine(due_on + timedelta(days=1), time(0), self.timezone)
        return midnight.astimezone(UTC)

    def on_time(self, due_on: date, verified_at: datetime) -> bool:
        return verified_at.astimezone(self.timezone).date() <= due_on


def check_open(status: str, lead_id: str) -> None:
    if status == DONE:
        raise Conflict(f"lead {lead_id} was verified already")
    if status == CLOSED:
        raise Conflict(f"lead {lead_id} was closed by registration (declared since)")
