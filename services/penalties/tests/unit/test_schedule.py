"""The schedule's rules as data: what a version may say, which is in force on a day, how
a new version is admitted (issue 12, item 2)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from common.errors import DomainError
from penalties.domain.schedule import Schedule, Step, admit, ended_before, in_force
from penalties.events import Action
from penalties.settings import DEFAULT_SCHEDULE


def packaged(**changes: Any) -> Schedule:
    document = json.loads(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
    return Schedule.model_validate(document | changes)


def test_the_packaged_schedule_cites_an_article_for_every_rule() -> None:
    schedule = packaged()

    assert set(schedule.rules) >= {
        "undeclared_occupant", "late_declaration", "hazard_low", "hazard_medium",
        "hazard_high", "employer_return_missed", "unregistered_rental",
    }  # fmt: skip
    for rule in schedule.rules.values():
        assert "條例" in rule.article
        assert rule.overdue.action is Action.FINE


@pytest.mark.parametrize(
    "step",
    [
        {"action": "rectification_order"},  # no grace period
        {"action": "warning", "grace_working_days": 3},
        {"action": "fine", "fine_min_yuan": 100, "fine_max_yuan": 500},  # no amount
        {"action": "fine", "fine_min_yuan": 100, "fine_max_yuan": 500, "fine_yuan": 600},
        {"action": "warning", "fine_yuan": 100},
    ],
)
def test_a_step_says_exactly_what_its_action_needs(step: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Step.model_validate(step)


def test_an_officers_fine_must_lie_within_the_range() -> None:
    step = Step(action=Action.FINE, fine_min_yuan=200, fine_max_yuan=500, fine_yuan=200)

    step.check_amount(500, "amount_yuan")
    with pytest.raises(DomainError) as refused:
        step.check_amount(501, "amount_yuan")
    assert refused.value.field == "amount_yuan"


def test_the_version_in_force_is_the_one_whose_span_holds_the_day() -> None:
    first = packaged(effective_to="2026-03-31")
    second = packaged(version="v2", effective_from="2026-04-01", review_by="2027-04-01")

    assert in_force([first, second], date(2026, 3, 31)).version == first.version
    assert in_force([first, second], date(2026, 4, 1)).version == "v2"
    with pytest.raises(DomainError):
        in_force([first, second], date(2025, 12, 31))


def test_a_later_open_ended_version_supersedes_and_overlaps_are_refused() -> None:
    current = packaged()
    later = packaged(version="v2", effective_from="2026-04-01")

    superseded = admit([current], later)

    assert superseded == current
    assert ended_before(current, later.effective_from).effective_to == date(2026, 3, 31)
    with pytest.raises(DomainError, match="overlaps"):
        admit([current], packaged(version="v3", effective_from="2026-02-01",
                                  effective_to="2026-02-28"))  # fmt: skip
    with pytest.raises(DomainError, match="not edited"):
        admit([current], packaged(effective_from="2026-05-01"))
    # Earlier than the latest start: it cannot supersede it.
    with pytest.raises(DomainError, match="overlaps"):
        admit([current], packaged(version="v4", effective_from="2025-06-01"))


def test_a_version_is_past_review_the_day_after_its_review_date() -> None:
    schedule = packaged(review_by="2026-06-30")

    assert not schedule.review_overdue(date(2026, 6, 30))
    assert schedule.review_overdue(date(2026, 7, 1))
