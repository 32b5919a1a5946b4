"""Employers, employments and monthly returns: "whoever employs is responsible" (誰用工、誰負責).

An employer registers with its unified social credit code, declares each hire and leave
of its workers (用人登記、人走銷戶) and files its figures every month (每月統計、逐月上報).
Pure rules: the caller loads the employer with its active employments, calls these
methods with the current time, and saves what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from common.errors import DomainError
from common.events import Event
from common.identity import ResidentId
from registration.domain.credit_code import CreditCode
from registration.domain.policy import EmployerReturnPolicy, Month
from registration.events import (
    EmployerChannel,
    EmployerRegistered,
    EmployerReturnFiled,
    EmployerReturnMissed,
    EmploymentDeclared,
    EmploymentEnded,
)

MAX_NAME = 200
MAX_FIGURE = 1_000_000  # workers of one employer in one month; larger is a typing error


@dataclass(frozen=True)
class Employment:
    id: str
    person_ref: str
    hired_on: date


@dataclass(frozen=True)
class MonthFigures:
    """What the employer reports for a month."""

    headcount: int
    hires: int
    leavers: int


@dataclass
class Employer:
    id: str
    credit_code: str
    name: str
    grid_id: str
    address: str
    registered_at: datetime
    # Active employments by person_ref (a person is employed at most once at a time).
    active: dict[str, Employment] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @classmethod
    def register(
        cls,
        *,
        employer_id: str,
        credit_code: CreditCode,
        name: str,
        grid_id: str,
        address: str,
        channel: EmployerChannel,
        now: datetime,
    ) -> Employer:
        name, address = name.strip(), address.strip()
        if not name:
            raise DomainError("name", "must not be empty")
        if len(name) > MAX_NAME:
            raise DomainError("name", f"at most {MAX_NAME} characters")
        if not address:
            raise DomainError("address", "must not be empty")
        employer = cls(
            id=employer_id,
            credit_code=credit_code.value,
            name=name,
            grid_id=grid_id,
            address=address,
            registered_at=now,
        )
        employer.events.append(
            EmployerRegistered(
                employer_id=employer_id,
                credit_code=credit_code.value,
                employer_name=name,
                grid_id=grid_id,
                address=address,
                channel=channel,
                registered_at=now,
            )
        )
        return employer

    # -- 用人登記: hire ----------------------------------------------------------------
    def hire(
        self,
        *,
        employment_id: str,
        person: ResidentId,
        person_ref: str,
        id_number_masked: str,
        hired_on: date,
        today: date,
        now: datetime,
        channel: EmployerChannel,
        via_roster: bool = False,
    ) -> EmploymentDeclared:
        """Declare a hire; ``today`` is the office's local date."""
        if hired_on > today:
            raise DomainError("hired_on", "a hire cannot be declared before it happens")
        if hired_on < person.birth_date:
            raise DomainError("hired_on", "is before the person's birth date")
        current = self.active.get(person_ref)
        if current is not None:
            raise DomainError(
                "id_number",
                f"already employed here since {current.hired_on.isoformat()} "
                f"(employment {current.id}); declare the leave first",
            )
        self.active[person_ref] = Employment(employment_id, person_ref, hired_on)
        event = EmploymentDeclared(
            employment_id=employment_id,
            employer_id=self.id,
            grid_id=self.grid_id,
            person_ref=person_ref,
            id_number_masked=id_number_masked,
            hired_on=hired_on,
            declared_at=now,
            channel=channel,
            via_roster=via_roster,
        )
        self.events.append(event)
        return event

    # -- 人走銷戶: leave ---------------------------------------------------------------
    def employment(self, employment_id: str) -> Employment | None:
        """The active employment with this id, if any."""
        return next((e for e in self.active.values() if e.id == employment_id), None)

    def leave(
        self,
        *,
        person_ref: str,
        left_on: date,
        today: date,
        now: datetime,
        channel: EmployerChannel,
        via_roster: bool = False,
    ) -> EmploymentEnded:
        """Declare that the person employed here left on ``left_on``."""
        current = self.active.get(person_ref)
        if current is None:
            raise DomainError("id_number", "has no active employment with this employer")
        if left_on > today:
            raise DomainError("left_on", "a leave cannot be declared before it happens")
        if left_on < current.hired_on:
            raise DomainError("left_on", f"is before the hire date {current.hired_on.isoformat()}")
        del self.active[person_ref]
        event = EmploymentEnded(
            employment_id=current.id,
            employer_id=self.id,
            grid_id=self.grid_id,
            person_ref=person_ref,
            hired_on=current.hired_on,
            left_on=left_on,
            declared_at=now,
            channel=channel,
            via_roster=via_roster,
        )
        self.events.append(event)
        return event

    # -- 每月統計、逐月上報: monthly return -------------------------------------------------
    def file_return(
        self,
        *,
        month: Month,
        figures: MonthFigures,
        previous_version: int,
        recorded_headcount: int,
        now: datetime,
        channel: EmployerChannel,
        policy: EmployerReturnPolicy,
    ) -> EmployerReturnFiled:
        """File (``previous_version`` 0) or amend a month's return; amendments keep history."""
        if month > policy.month_of(now):
            raise DomainError("month", f"{month} has not started yet")
        if month < policy.month_of(self.registered_at):
            raise DomainError("month", f"{month} is before the employer was registered")
        for name in ("headcount", "hires", "leavers"):
            value = getattr(figures, name)
            if not 0 <= value <= MAX_FIGURE:
                raise DomainError(name, f"must be 0..{MAX_FIGURE}")
        due_at = policy.due_at(month)
        event = EmployerReturnFiled(
            employer_id=self.id,
            grid_id=self.grid_id,
            month=str(month),
            return_version=previous_version + 1,
            headcount=figures.headcount,
            hires=figures.hires,
            leavers=figures.leavers,
            recorded_headcount=recorded_headcount,
            due_at=due_at,
            on_time=now < due_at,
            filed_at=now,
            channel=channel,
            policy_version=policy.version,
        )
        self.events.append(event)
        return event

    def return_missed(
        self, *, month: Month, now: datetime, policy: EmployerReturnPolicy
    ) -> EmployerReturnMissed:
        """The deadline of ``month`` passed with no return (the timer found none)."""
        event = EmployerReturnMissed(
            employer_id=self.id,
            credit_code=self.credit_code,
            grid_id=self.grid_id,
            month=str(month),
            due_at=policy.due_at(month),
            detected_at=now,
            policy_version=policy.version,
        )
        self.events.append(event)
        return event
