"""Employers, hires, leaves and monthly returns: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from common.errors import DomainError
from common.identity import ResidentId, check_character
from registration.domain.credit_code import CreditCode, with_check_character
from registration.domain.employment import Employer, MonthFigures
from registration.domain.policy import CHINA_TIME, EmployerReturnPolicy, Month
from registration.events import (
    EmployerChannel,
    EmployerRegistered,
    EmployerReturnFiled,
    EmploymentDeclared,
    EmploymentEnded,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)
CODE = CreditCode.parse(with_check_character("91441900MA4W12345"))
POLICY = EmployerReturnPolicy()


def person(first17: str = "44030619900101123") -> ResidentId:
    return ResidentId.parse(first17 + check_character(first17), today=TODAY)


def new_employer(now: datetime = NOW) -> Employer:
    return Employer.register(
        employer_id="E1",
        credit_code=CODE,
        name=" Wentang Electronics ",
        grid_id="G1",
        address="8 Industrial Road",
        channel=EmployerChannel.EMPLOYER_SELF_DECLARATION,
        now=now,
    )


def hire(
    employer: Employer, who: ResidentId, hired_on: date, eid: str = "M1"
) -> EmploymentDeclared:
    return employer.hire(
        employment_id=eid,
        person=who,
        person_ref="P-" + who.value[-6:],
        id_number_masked="masked",
        hired_on=hired_on,
        today=TODAY,
        now=NOW,
        channel=EmployerChannel.EMPLOYER_SELF_DECLARATION,
    )


def leave(employer: Employer, who: ResidentId, left_on: date) -> EmploymentEnded:
    return employer.leave(
        person_ref="P-" + who.value[-6:],
        left_on=left_on,
        today=TODAY,
        now=NOW,
        channel=EmployerChannel.OFFICER,
    )


def file(employer: Employer, month: str, previous: int = 0, **kw: int) -> EmployerReturnFiled:
    figures = {"headcount": 10, "hires": 2, "leavers": 1, **kw}
    return employer.file_return(
        month=Month.parse(month),
        figures=MonthFigures(**figures),
        previous_version=previous,
        recorded_headcount=9,
        now=NOW,
        channel=EmployerChannel.EMPLOYER_SELF_DECLARATION,
        policy=POLICY,
    )


# -- registration -------------------------------------------------------------------------


def test_registering_records_the_employer_and_its_event() -> None:
    employer = new_employer()

    assert (employer.name, employer.credit_code) == ("Wentang Electronics", CODE.value)
    (event,) = employer.events
    assert isinstance(event, EmployerRegistered)
    assert (event.employer_id, event.credit_code, event.subject()) == ("E1", CODE.value, "E1")


@pytest.mark.parametrize(("field", "value"), [("name", "  "), ("address", ""), ("name", "x" * 201)])
def test_registration_needs_a_name_and_an_address(field: str, value: str) -> None:
    kwargs = {"name": "A", "address": "B", field: value}
    with pytest.raises(DomainError) as caught:
        Employer.register(
            employer_id="E1",
            credit_code=CODE,
            grid_id="G1",
            channel=EmployerChannel.OFFICER,
            now=NOW,
            **kwargs,
        )
    assert caught.value.field == field


# -- hire and leave -----------------------------------------------------------------------


def test_hire_declares_an_employment_with_the_pseudonym_only() -> None:
    employer = new_employer()

    event = hire(employer, person(), date(2026, 3, 2))

    assert isinstance(event, EmploymentDeclared)
    assert (event.employer_id, event.subject(), event.hired_on) == ("E1", "E1", date(2026, 3, 2))
    assert not {"id_number", "name", "phone"} & event.model_dump().keys()
    assert len(employer.active) == 1


def test_a_person_cannot_be_hired_twice_while_employed() -> None:
    employer = new_employer()
    hire(employer, person(), date(2026, 3, 1))

    with pytest.raises(DomainError, match="already employed") as caught:
        hire(employer, person(), date(2026, 3, 2), eid="M2")

    assert caught.value.field == "id_number"


def test_after_leaving_the_person_may_be_hired_again() -> None:
    employer = new_employer()
    hire(employer, person(), date(2026, 3, 1))
    leave(employer, person(), date(2026, 3, 2))

    again = hire(employer, person(), date(2026, 3, 3), eid="M2")

    assert again.employment_id == "M2"


def test_hire_date_in_the_future_is_refused() -> None:
    with pytest.raises(DomainError, match="before it happens") as caught:
        hire(new_employer(), person(), TODAY + timedelta(days=1))
    assert caught.value.field == "hired_on"


def test_hire_before_birth_is_refused() -> None:
    with pytest.raises(DomainError, match="birth") as caught:
        hire(new_employer(), person(), date(1989, 12, 31))
    assert caught.value.field == "hired_on"


def test_hire_today_is_accepted() -> None:
    assert hire(new_employer(), person(), TODAY).hired_on == TODAY


def test_leave_ends_the_active_employment() -> None:
    employer = new_employer()
    hire(employer, person(), date(2026, 3, 1))

    event = leave(employer, person(), date(2026, 3, 1))

    assert (event.employment_id, event.hired_on, event.left_on) == (
        "M1",
        date(2026, 3, 1),
        date(2026, 3, 1),
    )
    assert employer.active == {}


def test_leaving_needs_an_active_employment() -> None:
    employer = new_employer()
    with pytest.raises(DomainError, match="no active employment") as caught:
        leave(employer, person(), date(2026, 3, 1))
    assert caught.value.field == "id_number"

    hire(employer, person(), date(2026, 3, 1))
    leave(employer, person(), date(2026, 3, 2))
    with pytest.raises(DomainError, match="no active employment"):
        leave(employer, person(), date(2026, 3, 3))


def test_leave_before_hire_is_refused() -> None:
    employer = new_employer()
    hire(employer, person(), date(2026, 3, 2))

    with pytest.raises(DomainError, match="before the hire date") as caught:
        leave(employer, person(), date(2026, 3, 1))

    assert caught.value.field == "left_on"
    assert len(employer.active) == 1


def test_leave_in_the_future_is_refused() -> None:
    employer = new_employer()
    hire(employer, person(), date(2026, 3, 2))

    with pytest.raises(DomainError, match="before it happens") as caught:
        leave(employer, person(), TODAY + timedelta(days=1))

    assert caught.value.field == "left_on"


# -- monthly returns ----------------------------------------------------------------------


def test_month_parses_and_steps_over_the_year_end() -> None:
    assert Month.parse("2026-12").next() == Month(2027, 1)
    assert str(Month.parse("2026-03")) == "2026-03"
    assert Month(2026, 2).last_day() == date(2026, 2, 28)
    assert Month(2024, 2).last_day() == date(2024, 2, 29)


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "2026-3", "26-03", "2026/03", "1999-12"])
def test_bad_months_are_refused(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        Month.parse(raw)
    assert caught.value.field == "month"


def test_return_is_due_at_midnight_china_time_on_the_due_day_of_the_next_month() -> None:
    due = POLICY.due_at(Month(2026, 3))

    assert due == datetime(2026, 4, 5, tzinfo=CHINA_TIME)
    assert due == datetime(2026, 4, 4, 16, 0, tzinfo=UTC)
    assert POLICY.due_at(Month(2026, 12)) == datetime(2027, 1, 4, 16, 0, tzinfo=UTC)


def test_due_day_and_time_zone_are_policy() -> None:
    policy = EmployerReturnPolicy(due_day=10, timezone=timezone(timedelta(hours=0)))

    assert policy.due_at(Month(2026, 3)) == datetime(2026, 4, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"1\.\.28"):
        EmployerReturnPolicy(due_day=31)


def test_local_month_follows_the_policy_time_zone() -> None:
    late_evening_utc = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 1 April 01:00 in China

    assert POLICY.month_of(late_evening_utc) == Month(2026, 4)
    assert POLICY.local_date(late_evening_utc) == date(2026, 4, 1)


def test_filing_a_return_records_version_due_and_on_time() -> None:
    event = file(new_employer(), "2026-03")

    assert (event.month, event.return_version, event.on_time) == ("2026-03", 1, True)
    assert event.due_at == datetime(2026, 4, 4, 16, 0, tzinfo=UTC)
    assert (event.headcount, event.hires, event.leavers, event.recorded_headcount) == (10, 2, 1, 9)


def test_amending_a_return_is_the_next_version() -> None:
    assert file(new_employer(), "2026-03", previous=2).return_version == 3


def test_a_return_after_the_deadline_is_late() -> None:
    employer = new_employer(now=datetime(2026, 1, 10, tzinfo=UTC))

    event = file(employer, "2026-01")  # due 5 February, filed 4 March

    assert event.on_time is False


def test_a_month_that_has_not_started_cannot_be_filed() -> None:
    with pytest.raises(DomainError, match="not started") as caught:
        file(new_employer(), "2026-04")
    assert caught.value.field == "month"


def test_a_month_before_registration_cannot_be_filed() -> None:
    with pytest.raises(DomainError, match="before the employer was registered"):
        file(new_employer(), "2026-02")


@pytest.mark.parametrize("field", ["headcount", "hires", "leavers"])
def test_figures_must_be_plausible(field: str) -> None:
    with pytest.raises(DomainError) as caught:
        file(new_employer(), "2026-03", **{field: -1})
    assert caught.value.field == field


def test_a_missed_return_names_the_month_and_its_deadline() -> None:
    employer = new_employer()

    event = employer.return_missed(month=Month(2026, 3), now=NOW, policy=POLICY)

    assert (event.employer_id, event.month, event.credit_code) == ("E1", "2026-03", CODE.value)
    assert event.due_at == POLICY.due_at(Month(2026, 3))
