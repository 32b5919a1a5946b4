"""A count's states and a case's outcome; deadlines in working days (issue 12, item 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from common.errors import Conflict
from common.workdays import WorkingCalendar
from penalties.domain.cases import (
    FINED,
    ORDERED,
    RECTIFIED,
    REVERSED,
    WARNED,
    Deadlines,
    check_decidable,
    describe,
    outcome,
)
from penalties.events import CaseOutcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINES = Deadlines(WorkingCalendar.mainland(), SHANGHAI)


def test_a_case_closes_when_every_count_is_settled_and_a_fine_outweighs_the_rest() -> None:
    assert outcome([]) is None
    assert outcome([ORDERED, RECTIFIED]) is None
    assert outcome([RECTIFIED, FINED]) is CaseOutcome.PENALISED
    assert outcome([RECTIFIED, WARNED]) is CaseOutcome.RECTIFIED
    assert outcome([WARNED]) is CaseOutcome.WARNED
    assert outcome([REVERSED]) is CaseOutcome.REVERSED


def test_a_settled_count_is_not_decided_again() -> None:
    check_decidable(ORDERED)
    with pytest.raises(Conflict):
        check_decidable(FINED)


def test_an_orders_deadline_is_in_working_days_and_never_before_the_period_given() -> None:
    friday_evening = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)  # 20:00 in Dongguan

    assert DEADLINES.deadline(friday_evening, 3, None) == date(2026, 3, 18)
    assert DEADLINES.deadline(friday_evening, 3, date(2026, 3, 20)) == date(2026, 3, 20)


def test_the_mainland_calendar_skips_the_national_day_holiday() -> None:
    before = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)

    assert DEADLINES.deadline(before, 1, None) > date(2026, 10, 7)


def test_an_order_is_overdue_when_the_day_after_its_deadline_begins_in_the_office() -> None:
    due = DEADLINES.overdue_at(date(2026, 3, 12))

    assert due == datetime(2026, 3, 12, 16, 0, tzinfo=UTC)  # midnight in Dongguan
    assert DEADLINES.on_time(date(2026, 3, 12), datetime(2026, 3, 12, 15, 59, tzinfo=UTC))
    assert not DEADLINES.on_time(date(2026, 3, 12), due)


def test_a_notices_facts_name_rooms_and_days_not_people() -> None:
    text = describe("undeclared_occupant", date(2026, 3, 9), {"room_no": "101"})
    hazard = describe("hazard_high", date(2026, 3, 9),
                      {"item": "wiring_exposed", "correct_by": "2026-03-10"})  # fmt: skip
    unknown = describe("littering", date(2026, 3, 9), {"note": "bins"})

    assert text == "An occupant of room 101 was found undeclared on 2026-03-09"
    assert (
        hazard == "Safety hazard wiring_exposed found on 2026-03-09, to be corrected by 2026-03-10"
    )
    assert unknown == "Breach littering on 2026-03-09: bins"
