"""The declaration deadline: working days after the move-in."""

from __future__ import annotations

from datetime import date

import pytest

from registration.domain.policy import DeclarationPolicy


@pytest.mark.parametrize(
    ("moved_in_on", "deadline"),
    [
        (date(2026, 3, 2), date(2026, 3, 5)),  # Monday -> Thursday
        (date(2026, 3, 4), date(2026, 3, 9)),  # Wednesday -> over the weekend to Monday
        (date(2026, 3, 5), date(2026, 3, 10)),  # Thursday -> Tuesday
        (date(2026, 3, 6), date(2026, 3, 11)),  # Friday -> Wednesday
        (date(2026, 3, 7), date(2026, 3, 11)),  # Saturday -> Wednesday
        (date(2026, 3, 8), date(2026, 3, 11)),  # Sunday -> Wednesday
    ],
)
def test_deadline_counts_three_working_days_skipping_weekends(
    moved_in_on: date, deadline: date
) -> None:
    assert DeclarationPolicy().deadline(moved_in_on) == deadline


def test_deadline_follows_the_configured_number_of_working_days() -> None:
    policy = DeclarationPolicy(deadline_working_days=10, version="city-2027")

    assert policy.deadline(date(2026, 3, 6)) == date(2026, 3, 20)  # two full weeks from Friday


def test_zero_working_days_means_the_same_day() -> None:
    assert DeclarationPolicy(deadline_working_days=0).deadline(date(2026, 3, 7)) == date(2026, 3, 7)


def test_deadline_skips_public_holidays_and_counts_make_up_working_days() -> None:
    # National Day 2025: 1-8 October off, Saturday 11 October worked instead.
    assert DeclarationPolicy().deadline(date(2025, 9, 30)) == date(2025, 10, 11)
    # Spring Festival 2026: 15-23 February off, Saturday 28 February worked instead.
    assert DeclarationPolicy().deadline(date(2026, 2, 26)) == date(2026, 3, 2)
