"""Visits (三位一體): information collection, the home visit and the hazard checklist, in
one submission. Pure: no I/O.

A visit is captured on an officer's phone, often without coverage: the phone gives it an
id and a version, and submits it when it can (minutes or hours later, more than once, out
of order). Version 1 creates it; each later submission must carry the next version; the
same version with the same content is a replay (nothing changes); any other version is a
conflict (409), never a silent overwrite. A submission marked ``completed`` closes the
visit: its findings are published, and it cannot change any more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from common.errors import Conflict, DomainError
from common.identity import ResidentId
from common.workdays import WorkingCalendar
from inspection.events.visits import Severity


@dataclass(frozen=True)
class HazardRule:
    """One checklist item: how serious a failure is, and the working days to correct it."""

    category: str
    severity: Severity
    correction_working_days: int


@dataclass(frozen=True)
class HazardPolicy:
    """The hazard checklist (fire, electrical, overcrowding, structure, security): versioned
    policy citing its source, like every deadline; the correction periods count working
    days of the office's calendar."""

    version: str
    source: str
    items: Mapping[str, HazardRule]
    calendar: WorkingCalendar

    def rule(self, item: str, index: int) -> HazardRule:
        found = self.items.get(item)
        if found is None:
            known = ", ".join(sorted(self.items))
            raise DomainError(
                f"hazards.{index}.item", f"{item!r} is not on the checklist ({known})"
            )
        return found


@dataclass(frozen=True)
class ShiftPolicy:
    """錯時工作制: visits from ``evening_from`` local time count as evening visits, when
    workers are home; ``evening_share`` is the share of a plan's visits wanted then."""

    evening_from: time
    evening_share: float
    timezone: tzinfo

    def is_evening(self, moment: datetime) -> bool:
        local = moment.astimezone(self.timezone).time()
        return local >= self.evening_from or local < time(5, 0)


@dataclass(frozen=True)
class OccupantMet:
    room_no: str
    id_number: str
    full_name: str
    phone: str | None
    moved_in_on: date | None


@dataclass(frozen=True)
class FollowUpVerdict:
    """A follow-up's finding on a rectification order of penalties at the property."""

    order_id: str
    rectified: bool


@dataclass(frozen=True)
class HazardCheck:
    item: str
    passed: bool
    note: str | None


@dataclass(frozen=True)
class HazardFailure:
    item: str
    category: str
    severity: Severity
    correction_working_days: int
    correct_by: date
    note: str | None


def checked_occupants(
    occupants: Sequence[OccupantMet], rooms: frozenset[str] | None, *, today: date
) -> list[OccupantMet]:
    """The occupants with their identity numbers validated (GB 11643, as registration
    does) and normalised; one person met twice in a visit is an error."""
    seen: set[str] = set()
    result = []
    for i, o in enumerate(occupants):
        number = ResidentId.parse(o.id_number, today=today, field=f"occupants.{i}.id_number")
        if number.value in seen:
            raise DomainError(f"occupants.{i}.id_number", "the same person is listed twice")
        seen.add(number.value)
        if not o.full_name.strip():
            raise DomainError(f"occupants.{i}.full_name", "must not be blank")
        if rooms is not None and o.room_no not in rooms:
            raise DomainError(f"occupants.{i}.room_no", f"room {o.room_no!r} is not registered")
        if o.moved_in_on is not None and o.moved_in_on > today:
            raise DomainError(f"occupants.{i}.moved_in_on", "is after the visit")
        result.append(
            OccupantMet(o.room_no, number.value, o.full_name.strip(), o.phone, o.moved_in_on)
        )
    return result


def failed_hazards(
    checks: Sequence[HazardCheck], policy: HazardPolicy, *, today: date
) -> list[HazardFailure]:
    """Every item that failed, with its severity and correction deadline (policy); every
    item is checked against the checklist, passed or not, and listed once."""
    seen: set[str] = set()
    failures = []
    for i, check in enumerate(checks):
        rule = policy.rule(check.item, i)
        if check.item in seen:
            raise DomainError(f"hazards.{i}.item", f"{check.item!r} is listed twice")
        seen.add(check.item)
        if not check.passed:
            failures.append(
                HazardFailure(
                    item=check.item,
                    category=rule.category,
                    severity=rule.severity,
                    correction_working_days=rule.correction_working_days,
                    correct_by=policy.calendar.add_working_days(
                        today, rule.correction_working_days
                    ),
                    note=check.note,
                )
            )
    return failures


@dataclass(frozen=True)
class Stored:
    version: int
    content_sha256: str
    completed: bool


def accept(stored: Stored | None, *, version: int, content_sha256: str) -> bool:
    """Whether a submission is new (True) or a replay of the stored one (False); a
    :class:`Conflict` (409) for a version out of order or an edit of a completed visit."""
    if stored is None:
        if version != 1:
            raise Conflict(f"visit not known yet: its first submission is version 1, not {version}")
        return True
    if version == stored.version and content_sha256 == stored.content_sha256:
        return False
    if stored.completed:
        raise Conflict(f"the visit was completed at version {stored.version}; it cannot change")
    if version != stored.version + 1:
        raise Conflict(
            f"version {version} conflicts with the stored version {stored.version}: "
            f"submit version {stored.version + 1} over it, with its changes"
        )
    return True
