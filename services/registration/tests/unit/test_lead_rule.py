"""The lead rule: thresholds, window, distinct days, one open lead at a time; entry checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from common.errors import DomainError
from registration.domain.reconciliation import (
    DaySighting,
    Evidence,
    LeadPolicy,
    check_entry_time,
    entry_key,
    listing_warrants_lead,
    normalise_address,
    sightings_warrant_lead,
    subject_ref,
)

CST = timezone(timedelta(hours=8))
POLICY = LeadPolicy(
    min_sightings=3,
    window_days=7,
    min_distinct_days=2,
    timezone=CST,
    version="test",
    source="test",
)
TODAY = date(2026, 3, 4)


def seen(day: date, entries: int = 1) -> DaySighting:
    at = datetime(day.year, day.month, day.day, 20, 0, tzinfo=CST)
    return DaySighting(day, entries, at, at + timedelta(hours=1))


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def judge(
    days: list[DaySighting],
    *,
    has_active_residence: bool = False,
    has_open_lead: bool = False,
    last_closed_on: date | None = None,
) -> Evidence | None:
    return sightings_warrant_lead(
        days,
        policy=POLICY,
        today=TODAY,
        has_active_residence=has_active_residence,
        has_open_lead=has_open_lead,
        last_closed_on=last_closed_on,
    )


def test_three_sightings_on_two_days_within_the_window_warrant_a_lead() -> None:
    evidence = judge([seen(days_ago(1), 2), seen(TODAY)])

    assert evidence is not None
    assert (evidence.sightings, evidence.distinct_days) == (3, 2)
    assert evidence.window_start == days_ago(6)
    assert evidence.first_seen is not None and evidence.first_seen.date() == days_ago(1)


def test_too_few_sightings_are_no_lead() -> None:
    assert judge([seen(days_ago(1)), seen(TODAY)]) is None


def test_many_sightings_on_one_day_are_no_lead() -> None:
    assert judge([seen(TODAY, 10)]) is None


def test_sightings_before_the_window_do_not_count() -> None:
    assert judge([seen(days_ago(7), 5), seen(TODAY)]) is None
    assert judge([seen(days_ago(6), 5), seen(TODAY)]) is not None


def test_no_lead_for_a_resident_on_record_or_while_a_lead_is_open() -> None:
    days = [seen(days_ago(2), 2), seen(TODAY, 2)]

    assert judge(days, has_active_residence=True) is None
    assert judge(days, has_open_lead=True) is None


def test_after_a_closed_lead_only_later_sightings_count() -> None:
    days = [seen(days_ago(3), 3), seen(days_ago(2), 3), seen(TODAY)]

    assert judge(days, last_closed_on=days_ago(2)) is None
    assert judge([*days, seen(days_ago(1), 2)], last_closed_on=days_ago(2)) is not None


def test_a_listing_is_a_lead_unless_explained() -> None:
    assert listing_warrants_lead(has_active_residence=False, has_open_lead=False)
    assert not listing_warrants_lead(has_active_residence=True, has_open_lead=False)
    assert not listing_warrants_lead(has_active_residence=False, has_open_lead=True)


def test_policy_refuses_impossible_thresholds() -> None:
    with pytest.raises(ValueError, match="min_distinct_days"):
        LeadPolicy(3, 2, 3, CST, "v", "s")
    with pytest.raises(ValueError, match="at least 1"):
        LeadPolicy(0, 7, 2, CST, "v", "s")


NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # 18:00 in China


def test_entries_count_for_their_local_day() -> None:
    late_evening = datetime(2026, 3, 3, 16, 30, tzinfo=UTC)  # 00:30 on 4 March in China

    assert check_entry_time(late_evening, now=NOW, policy=POLICY) == TODAY


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (datetime(2026, 3, 4, 10, 0), "UTC offset"),
        (NOW + timedelta(minutes=6), "future"),
        (datetime(2026, 2, 25, 15, 59, tzinfo=UTC), "window"),  # 23:59 on 25 Feb in China
    ],
    ids=["naive", "future", "stale"],
)
def test_entries_without_offset_from_the_future_or_before_the_window_are_refused(
    at: datetime, reason: str
) -> None:
    with pytest.raises(DomainError, match=reason) as caught:
        check_entry_time(at, now=NOW, policy=POLICY)
    assert caught.value.field == "at"


def test_the_entry_key_is_the_same_instant_in_any_offset() -> None:
    in_utc = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)

    assert entry_key("D1", in_utc, "h") == entry_key("D1", in_utc.astimezone(CST), "h")
    assert entry_key("D1", in_utc, "h") != entry_key("D2", in_utc, "h")
    assert entry_key("D1", in_utc, "h") != entry_key("D1", in_utc + timedelta(seconds=1), "h")


def test_addresses_compare_after_normalisation() -> None:
    assert normalise_address(" Lane 3 ,  No.12 ") == normalise_address("lane 3,no.12")
    full_width = "\uff2c\uff41\uff4e\uff45 \uff13, No.12"  # "Lane 3" in full-width forms
    assert normalise_address(full_width) == normalise_address("Lane 3, No.12")
    assert normalise_address("Lane 3, No.12") != normalise_address("Lane 3, No.13")


def test_subject_ref_is_pseudonymous_and_stable() -> None:
    ref = subject_ref("ab" * 32)
    assert ref == "S" + ("ab" * 32)[:23]
    assert len(ref) == 24
