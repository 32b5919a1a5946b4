"""Verification tasks (精準核查): a lead becomes a task due in working days; the officer's
outcome goes to registration; a late task is escalated (issue 11, item 6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from common.clock import FakeClock
from common.db import timers
from common.testing import Running, drain
from common.timers import TimerWorker
from inspection.adapters.verification_tables import verification_tasks
from inspection.events import TOPIC
from inspection.upstream.registration import LeadClosed, UnregisteredOccupantSuspected

NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday (as conftest)

Staff = Callable[..., dict[str, str]]


async def lead(svc: Running, lead_id: str = "L1", grid: str = "WT-G03") -> None:
    await svc.deliver(
        UnregisteredOccupantSuspected(
            lead_id=lead_id,
            property_id="P1",
            grid_id=grid,
            suspected_at=NOW,  # Monday 09:00
        )
    )


async def verify(
    svc: Running, headers: dict[str, str], lead_id: str, key: str, **body: object
) -> httpx.Response:
    return await svc.client.post(
        f"/tasks/{lead_id}/verification",
        json={"outcome": "resides_here", "room_no": "101"} | body,
        headers={**headers, "Idempotency-Key": key},
    )


async def test_a_lead_is_a_task_due_in_three_working_days(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await lead(svc)
    await lead(svc)  # a redelivery: still one task

    listing = (await svc.client.get("/tasks", headers=staff("WT-G03"))).json()

    (task,) = listing["tasks"]
    assert (task["lead_id"], task["due_on"], task["status"]) == ("L1", "2026-03-12", "open")
    async with svc.runtime.sessionmaker() as session:
        (timer,) = (await session.execute(select(timers))).all()
    assert timer.kind == "verification-due"
    assert timer.due_at.isoformat().startswith("2026-03-12T16:00")  # 00:00 on the 13th, local
    other = (await svc.client.get("/tasks", headers=staff("WT-G05"))).json()
    assert other["tasks"] == []


async def test_the_outcome_goes_to_registration_once(inspection: Running, staff: Staff) -> None:
    svc = inspection
    await lead(svc)
    officer = staff("WT-G03")

    done = await verify(svc, officer, "L1", "k1", moved_in_on="2026-03-01")
    again = await verify(svc, officer, "L1", "k2")
    outside = await verify(svc, staff("WT-G05"), "L1", "k3")

    assert done.status_code == 200, done.text
    assert done.json()["on_time"] is True
    assert (again.status_code, outside.status_code) == (409, 403)
    await svc.drain()
    (event,) = [json.loads(r.body) for r in svc.records[TOPIC]]
    assert (event["lead_id"], event["outcome"], event["room_no"]) == ("L1", "resides_here", "101")
    async with svc.runtime.sessionmaker() as session:
        timer = (await session.execute(select(timers))).one()
    assert timer.done_at is not None and timer.last_error == "cancelled"


async def test_a_room_is_only_given_when_the_person_lives_there(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await lead(svc)

    response = await verify(svc, staff("WT-G03"), "L1", "k", outcome="visitor")
    unknown = await verify(svc, staff("WT-G03"), "L404", "k2")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "room_no"]
    assert unknown.status_code == 404


async def test_a_late_task_is_escalated_and_listed_overdue(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await lead(svc)
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=4, hours=8))  # Friday 17:00 local: past Thursday's end
    worker = TimerWorker(
        svc.runtime.sessionmaker, svc.runtime.timer_handlers, clock, postgres=False
    )

    await worker.fire_due()
    await drain(svc.runtime)

    (event,) = [json.loads(r.body) for r in svc.records[TOPIC]]
    assert (event["lead_id"], event["due_on"]) == ("L1", "2026-03-12")
    overdue = (await svc.client.get("/tasks?status=overdue", headers=staff("WT-G03"))).json()
    assert [t["lead_id"] for t in overdue["tasks"]] == ["L1"]
    assert overdue["tasks"][0]["escalated_at"] is not None
    late = await verify(svc, staff("WT-G03"), "L1", "late")
    assert late.json()["on_time"] is False


async def test_a_lead_registration_closes_first_closes_the_task(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await lead(svc)

    await svc.deliver(LeadClosed(lead_id="L1", property_id="P1"))
    response = await verify(svc, staff("WT-G03"), "L1", "k")

    assert response.status_code == 409
    async with svc.runtime.sessionmaker() as session:
        status = await session.scalar(select(verification_tasks.c.status))
    assert status == "closed"
