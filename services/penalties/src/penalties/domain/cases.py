"""Cases and their counts: the states a count goes through, and when a case closes.

A count is one breach. Its first decision follows the schedule (a warning settles it; an
order leaves it ``ordered`` until a follow-up verifies it or its deadline passes; a fine
settles it). An order not carried out becomes the schedule's fine. An appeal upheld
reverses the count's decision and settles it as ``reversed``. Nothing is overwritten:
each decision, check and appeal is a row of its own, with its author.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from common.errors import Conflict, DomainError
from common.workdays import WorkingCalendar
from penalties.events import Action, CaseOutcome, PartyKind

OPEN = "open"  # recorded, no decision yet
ORDERED = "ordered"  # an order is open
WARNED = "warned"
RECTIFIED = "rectified"
FINED = "fined"
REVERSED = "reversed"

SETTLED = frozenset({WARNED, RECTIFIED, FINED, REVERSED})

AFTER = {Action.WARNING: WARNED, Action.RECTIFICATION_ORDER: ORDERED, Action.FINE: FINED}
"""A count's status after a decision of each kind."""


def check_decidable(status: str) -> None:
    """An officer decides a count still open or under an order, never a settled one."""
    if status in SETTLED:
        raise Conflict(f"the count is already settled ({status})")


def outcome(statuses: Iterable[str]) -> CaseOutcome | None:
    """The case's outcome once every count is settled; None while any is not."""
    settled = list(statuses)
    if not settled or any(s not in SETTLED for s in settled):
        return None
    if FINED in settled:
        return CaseOutcome.PENALISED
    if RECTIFIED in settled:
        return CaseOutcome.RECTIFIED
    if WARNED in settled:
        return CaseOutcome.WARNED
    return CaseOutcome.REVERSED


@dataclass(frozen=True)
class Deadlines:
    """Order deadlines in working days (the common calendar) in the office's time."""

    calendar: WorkingCalendar
    timezone: tzinfo

    def today(self, now: datetime) -> date:
        return now.astimezone(self.timezone).date()

    def deadline(self, now: datetime, grace_working_days: int, at_least: date | None) -> date:
        """``grace`` working days from today; never earlier than a period the party was
        already given on site (a hazard's correct-by day)."""
        day = self.calendar.add_working_days(self.today(now), grace_working_days)
        return max(day, at_least) if at_least is not None else day

    def overdue_at(self, deadline: date) -> datetime:
        """When an order with this deadline is overdue: the next day begins (in UTC, as
        every stored instant)."""
        return datetime.combine(deadline + timedelta(days=1), time(), self.timezone).astimezone(UTC)

    def on_time(self, deadline: date, now: datetime) -> bool:
        return self.today(now) <= deadline


@dataclass(frozen=True)
class Breach:
    """One breach, as a count records it: what, where, by whom, when, and what groups it
    with others into one case (the visit it was found on, the declaration, the month)."""

    breach: str
    breach_id: str
    grouping_key: str
    party_kind: PartyKind
    party_id: str | None
    property_id: str | None
    employer_id: str | None
    grid_id: str
    occurred_on: date
    source_type: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    item: str | None = None
    correct_by: date | None = None

    @property
    def subject_id(self) -> str:
        subject = self.property_id if self.party_kind is PartyKind.LANDLORD else self.employer_id
        if not subject:
            field = "property_id" if self.party_kind is PartyKind.LANDLORD else "employer_id"
            raise DomainError(field, f"a {self.party_kind.value} case names its {field}")
        return subject


BREACH_FACTS = {
    "undeclared_occupant": "An occupant of room {room_no} was found undeclared on {occurred_on}",
    "late_declaration": "A move-in to room {room_no} on {moved_in_on} was declared on "
    "{declared_on}, after its deadline of {deadline}",
    "employer_return_missed": "The monthly return for {month} was not filed by its deadline",
    "unregistered_rental": "The property was found let without registration on {occurred_on}",
}


def describe(breach: str, occurred_on: date, facts: Mapping[str, Any]) -> str:
    """The facts of a count as a notice states them (ids, rooms, dates: no one's name)."""
    values = {**facts, "occurred_on": occurred_on.isoformat()}
    if breach.startswith("hazard_"):
        text = f"Safety hazard {facts.get('item', '?')} found on {occurred_on}"
        return (
            f"{text}, to be corrected by {facts['correct_by']}" if "correct_by" in facts else text
        )
    template = BREACH_FACTS.get(breach)
    if template is None:
        note = facts.get("note")
        return f"Breach {breach} on {occurred_on}" + (f": {note}" if note else "")
    try:
        return template.format(**values)
    except KeyError:
        return f"Breach {breach} on {occurred_on}"
