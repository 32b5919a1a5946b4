"""The penalty schedule: effective-dated, versioned policy an office edits.

A schedule version says, per breach type, the first decision (a warning, a rectification
order with a grace period in working days, or a fine), the decision when the same breach
repeats at the same property or employer within a look-back window, and what follows an
order that is not carried out (a fine). Each rule cites the regulation's article. The
version in force on the day of the breach decides, whatever the day of the decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from common.errors import DomainError
from penalties.events import CODE, Action

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")]
Breach = Annotated[str, StringConstraints(pattern=CODE)]

MAX_FINE_YUAN = 1_000_000


class Step(BaseModel):
    """One decision of the schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Action
    grace_working_days: int | None = Field(
        default=None, ge=1, le=180, description="Orders: working days to rectify"
    )
    fine_min_yuan: int | None = Field(default=None, ge=0, le=MAX_FINE_YUAN)
    fine_max_yuan: int | None = Field(default=None, ge=0, le=MAX_FINE_YUAN)
    fine_yuan: int | None = Field(
        default=None, ge=0, le=MAX_FINE_YUAN, description="Fines: the amount decided by itself"
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        order = self.action is Action.RECTIFICATION_ORDER
        fine = self.action is Action.FINE
        if order != (self.grace_working_days is not None):
            raise ValueError("grace_working_days is for (and required by) rectification orders")
        amounts = (self.fine_min_yuan, self.fine_max_yuan, self.fine_yuan)
        if fine != all(a is not None for a in amounts) or (not fine and any(amounts)):
            raise ValueError("fine_min_yuan, fine_max_yuan and fine_yuan are for (and "
                             "required by) fines")  # fmt: skip
        if fine and not (self.fine_min_yuan or 0) <= (self.fine_yuan or 0) <= (
            self.fine_max_yuan or 0
        ):
            raise ValueError("fine_yuan must lie within fine_min_yuan..fine_max_yuan")
        return self

    def check_amount(self, amount: int, field: str) -> None:
        """An officer's fine under this step: within its range."""
        low, high = self.fine_min_yuan or 0, self.fine_max_yuan or 0
        if not low <= amount <= high:
            raise DomainError(field, f"the schedule's range for this breach is {low}..{high} yuan")


class Rule(BaseModel):
    """What the schedule does with one breach type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Text = Field(description="The rule in a sentence, as a notice states it")
    article: Text = Field(description="The regulation and article it applies")
    first: Step
    repeat: Step | None = Field(default=None, description="Within lookback_days of another")
    lookback_days: int = Field(default=365, ge=1, le=3660)
    overdue: Step = Field(description="After an order not carried out by its deadline")

    @model_validator(mode="after")
    def _overdue_is_final(self) -> Self:
        if self.overdue.action is not Action.FINE:
            raise ValueError("overdue: the step after an order not carried out is a fine")
        return self

    def step(self, *, repeat: bool) -> Step:
        return self.repeat if repeat and self.repeat is not None else self.first

    def fine_step(self) -> Step:
        """The fine an officer's decision is checked against: the rule's own fine."""
        for step in (self.first, self.repeat, self.overdue):
            if step is not None and step.action is Action.FINE:
                return step
        return self.overdue


class Schedule(BaseModel):
    """A version of the schedule: in force from ``effective_from`` to ``effective_to``
    (inclusive; open-ended when null); due for review by ``review_by``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Version
    effective_from: date
    effective_to: date | None = None
    review_by: date
    source: Text = Field(description="Who set it, and on what authority")
    appeal: Text = Field(description="How and by when a party may appeal, as notices say")
    rules: dict[Breach, Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        if self.review_by < self.effective_from:
            raise ValueError("review_by is before effective_from")
        return self

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def rule(self, breach: str, field: str = "breach") -> Rule:
        try:
            return self.rules[breach]
        except KeyError:
            raise DomainError(
                field, f"schedule {self.version} has no rule for {breach!r}"
            ) from None

    def review_overdue(self, today: date) -> bool:
        return today > self.review_by


def in_force(schedules: Iterable[Schedule], day: date, field: str = "occurred_on") -> Schedule:
    """The version in force on ``day`` (versions never overlap)."""
    for schedule in schedules:
        if schedule.in_force(day):
            return schedule
    raise DomainError(field, f"no penalty schedule is in force on {day}")


def admit(existing: Sequence[Schedule], new: Schedule) -> Schedule | None:
    """Check a new version against the existing ones; returns the open-ended version it
    supersedes (to end the day before it starts), if any. Overlaps are refused."""
    if any(s.version == new.version for s in existing):
        raise DomainError("version", f"schedule {new.version} exists; versions are not edited")
    superseded = None
    for schedule in existing:
        if (
            schedule.effective_to is None
            and schedule.effective_from < new.effective_from
            and new.effective_to is None
            and all(s.effective_from < new.effective_from for s in existing)
        ):
            superseded = schedule  # the latest open-ended version ends when this starts
            continue
        if _overlap(schedule, new):
            raise DomainError(
                "effective_from",
                f"overlaps schedule {schedule.version} ({schedule.effective_from} to "
                f"{schedule.effective_to or 'open'})",
            )
    return superseded


def _overlap(a: Schedule, b: Schedule) -> bool:
    far = date.max
    return a.effective_from <= (b.effective_to or far) and b.effective_from <= (
        a.effective_to or far
    )


def ended_before(schedule: Schedule, day: date) -> Schedule:
    """``schedule`` ending the day before ``day`` (a later version supersedes it)."""
    return schedule.model_copy(update={"effective_to": day - timedelta(days=1)})
