"""Monthly returns (每月統計、逐月上報): filing, amending, and the deadline timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _employment_helpers import (
    OTHER_CREDIT_CODE,
    bodies,
    employer,
    file_return,
    hire,
    new_employer,
    worker_id,
)
from _registration_helpers import Registration

from common.clock import FakeClock
from common.db import idempotency_keys, outbox, timers
from common.timers import TimerWorker
from registration.adapters.employment_tables import employer_returns

DUE_MARCH = datetime(2026, 4, 4, 16, 0, tzinfo=UTC)  # 5 April 00:00 China time
DUE_APRIL = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    # The test fires timers itself (one pass of the worker) instead of the background loop.
    return {"run_timers": False}


def worker(svc: Registration, clock: FakeClock) -> TimerWorker:
    """A timer worker over the service's own handlers, as the runtime builds it."""
    return TimerWorker(svc.runtime.sessionmaker, svc.runtime.timer_handlers, clock, postgres=False)


async def fire_all(svc: Registration, clock: FakeClock) -> int:
    """Fire until nothing is due (each fired deadline arms the next month's)."""
    total = 0
    while fired := await worker(svc, clock).fire_due():
        total += fired
    return total


async def timer_rows(svc: Registration) -> dict[str, tuple[datetime, bool]]:
    """key -> (due_at, fired)"""
    return {
        r.key.split("/", 1)[1]: (r.due_at.replace(tzinfo=UTC), r.done_at is not None)
        for r in await svc.rows(timers)
        if r.kind == "employer-return"
    }


async def test_the_runtime_registers_the_return_timer_handler(registration: Registration) -> None:
    assert "employer-return" in registration.runtime.timer_handlers


async def test_filing_a_return_records_it_and_arms_the_next_months_deadline(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    await hire(svc, employer_id)
    await hire(svc, employer_id, key="h2", id_number=worker_id(1))

    response = await file_return(svc, employer_id)

    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["month"], result["version"], result["amended"], result["on_time"]) == (
        "2026-03",
        1,
        False,
        True,
    )
    assert (result["headcount"], result["recorded_headcount"]) == (12, 2)
    assert result["due_at"] == "2026-04-04T16:00:00+00:00"
    assert await timer_rows(svc) == {"2026-03": (DUE_MARCH, False), "2026-04": (DUE_APRIL, False)}
    await svc.drain()
    (filed,) = bodies(svc, "EmployerReturnFiled.v1")
    assert (filed["employer_id"], filed["month"], filed["return_version"]) == (
        employer_id,
        "2026-03",
        1,
    )
    assert filed["policy_version"] == "default-2026"
    assert svc.relayed()[-1].key == employer_id.encode()


async def test_refiling_a_month_amends_it_and_keeps_the_history(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    await file_return(svc, employer_id)

    amended = await file_return(svc, employer_id, key="return-key-2", headcount=13)
    listing = await svc.client.get(f"/employers/{employer_id}/returns", headers=employer(svc))

    assert amended.status_code == 201
    assert (amended.json()["version"], amended.json()["amended"]) == (2, True)
    assert await svc.count(employer_returns) == 2
    assert listing.status_code == 200
    body = listing.json()
    assert body["policy"]["due_day"] == 5
    assert body["policy"]["timezone"] == "Asia/Shanghai"
    (march,) = body["months"]
    assert (march["month"], march["status"], march["current"]["headcount"]) == (
        "2026-03",
        "filed",
        13,
    )
    assert [v["version"] for v in march["versions"]] == [1, 2]
    await svc.drain()
    assert [b["return_version"] for b in bodies(svc, "EmployerReturnFiled.v1")] == [1, 2]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"month": "2026-13"}, ["body", "month"]),
        ({"month": "2026-04"}, ["body", "month"]),  # not started yet
        ({"month": "2026-02"}, ["body", "month"]),  # before registration
        ({"headcount": -1}, ["body", "headcount"]),
        ({"hires": "many"}, ["body", "hires"]),
        ({"leavers": 1, "note": "x"}, ["body", "note"]),
    ],
    ids=["month-13", "future-month", "before-registration", "negative", "not-a-number", "extra"],
)
async def test_invalid_return_is_a_422_naming_the_field_and_writes_nothing(
    registration: Registration, overrides: dict[str, Any], loc: list[str]
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    before = (
        await svc.count(employer_returns),
        await svc.count(outbox),
        len(await timer_rows(svc)),
    )

    response = await file_return(svc, employer_id, **overrides)

    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["detail"]]
    after = (await svc.count(employer_returns), await svc.count(outbox), len(await timer_rows(svc)))
    assert after == before
    assert await svc.count(idempotency_keys) == 1  # the registration's only


async def test_another_employer_cannot_file(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)

    response = await file_return(svc, employer_id, employer(svc, OTHER_CREDIT_CODE))

    assert response.status_code == 403
    assert await svc.count(employer_returns) == 0


async def test_a_missed_deadline_publishes_return_missed_and_arms_the_next_month(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    clock.set(DUE_MARCH - timedelta(seconds=1))
    assert await worker(svc, clock).fire_due() == 0  # not yet

    clock.set(DUE_MARCH)
    fired = await worker(svc, clock).fire_due()

    assert fired == 1
    assert await timer_rows(svc) == {"2026-03": (DUE_MARCH, True), "2026-04": (DUE_APRIL, False)}
    await svc.drain()
    (missed,) = bodies(svc, "EmployerReturnMissed.v1")
    assert (missed["employer_id"], missed["month"], missed["grid_id"]) == (
        employer_id,
        "2026-03",
        "G1",
    )
    assert missed["due_at"] == "2026-04-04T16:00:00Z"
    record = svc.relayed()[-1]
    assert record.headers["ce_type"] == "registration.EmployerReturnMissed.v1"
    assert record.key == employer_id.encode()
    listing = (
        await svc.client.get(f"/employers/{employer_id}/returns", headers=employer(svc))
    ).json()
    assert [(m["month"], m["status"]) for m in listing["months"]] == [
        ("2026-03", "missed"),
        ("2026-04", "open"),
    ]


async def test_a_late_filing_is_marked_late_and_does_not_re_arm_the_missed_deadline(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    clock.set(DUE_MARCH + timedelta(days=1))
    assert await fire_all(svc, clock) == 1

    late = await file_return(svc, employer_id)

    assert late.status_code == 201
    assert late.json()["on_time"] is False
    assert await fire_all(svc, clock) == 0
    await svc.drain()
    assert len(bodies(svc, "EmployerReturnMissed.v1")) == 1
    assert await timer_rows(svc) == {"2026-03": (DUE_MARCH, True), "2026-04": (DUE_APRIL, False)}


async def test_a_return_filed_on_time_means_no_missed_event(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    clock.set(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    assert (await file_return(svc, employer_id)).json()["on_time"] is True

    clock.set(DUE_MARCH)
    fired = await fire_all(svc, clock)

    assert fired == 1  # the March deadline fired and found the return
    await svc.drain()
    assert bodies(svc, "EmployerReturnMissed.v1") == []
    assert await timer_rows(svc) == {"2026-03": (DUE_MARCH, True), "2026-04": (DUE_APRIL, False)}


async def test_after_downtime_every_missed_month_is_reported_once(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    clock.set(datetime(2026, 6, 10, tzinfo=UTC))

    fired = await fire_all(svc, clock)

    assert fired == 3
    await svc.drain()
    assert [b["month"] for b in bodies(svc, "EmployerReturnMissed.v1")] == [
        "2026-03",
        "2026-04",
        "2026-05",
    ]
    pending = {k: v for k, v in (await timer_rows(svc)).items() if not v[1]}
    assert pending == {"2026-06": (datetime(2026, 7, 4, 16, tzinfo=UTC), False)}
    assert {r.key for r in svc.relayed()} == {employer_id.encode()}
