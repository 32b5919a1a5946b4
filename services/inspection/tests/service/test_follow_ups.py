"""Follow-ups of penalties' rectification orders (責令整改): an order on a property is a
visit to make by its deadline; the visit records whether it was carried out, and its
``InspectionCompleted`` tells penalties (issue 11's follow-ups, issue 12 item 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from common.clock import FakeClock
from common.testing import Running
from inspection.adapters.follow_ups_tables import follow_ups
from inspection.events import TOPIC
from inspection.upstream.penalties import RectificationOrdered
from inspection.upstream.registration import PropertyRegistered, RoomCapacity

NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday (as conftest)
VISIT = "7d3c1a2e-4b5f-4c6d-8e9f-0a1b2c3d4e5f"

Staff = Callable[..., dict[str, str]]


def ordered(order_id: str, property_id: str | None = "P1") -> RectificationOrdered:
    return RectificationOrdered(
        order_id=order_id, case_id=f"C-{order_id}", breach="undeclared_occupant",
        property_id=property_id, grid_id="WT-G03", deadline=date(2026, 3, 12),
        ordered_at=NOW,
    )  # fmt: skip


async def registered(svc: Running, property_id: str = "P1") -> None:
    rooms = [RoomCapacity(room_no="101", capacity=2)]
    await svc.deliver(PropertyRegistered(property_id=property_id, grid_id="WT-G03", rooms=rooms))


def follow_up_visit(**changes: Any) -> dict[str, Any]:
    return {
        "version": 1, "property_id": "P1", "captured_at": "2026-03-09T00:30:00Z",
        "outcome": "visited", "completed": True,
        "follow_ups": [{"order_id": "O1", "rectified": True}],
    } | changes  # fmt: skip


async def put(svc: Running, headers: dict[str, str], body: dict[str, Any], key: str) -> Any:
    return await svc.client.put(
        f"/visits/{VISIT}", json=body, headers={**headers, "Idempotency-Key": key}
    )


async def test_an_order_on_a_property_is_a_follow_up_listed_open_then_overdue(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)
    await svc.deliver(ordered("O1"))
    await svc.deliver(ordered("O1"), ce_id="again")  # redelivered: one follow-up
    await svc.deliver(ordered("E1", property_id=None))  # an employer's: nothing to visit

    listed = (await svc.client.get("/follow-ups?grid_id=WT-G03", headers=staff("WT-G03"))).json()

    (follow_up,) = listed["follow_ups"]
    assert (follow_up["order_id"], follow_up["deadline"], follow_up["overdue"]) == (
        "O1", "2026-03-12", False,
    )  # fmt: skip
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=4))  # Friday 13 March: past Thursday's deadline
    overdue = await svc.client.get("/follow-ups?status=overdue", headers=staff("WT-G03"))
    assert [f["order_id"] for f in overdue.json()["follow_ups"]] == ["O1"]
    other_grid = await svc.client.get("/follow-ups?grid_id=WT-G09", headers=staff("WT-G03"))
    assert other_grid.status_code == 403


async def test_a_visit_records_its_verdict_and_tells_penalties(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)
    await svc.deliver(ordered("O1"))

    response = await put(svc, staff("WT-G03"), follow_up_visit(), "k1")
    replay = await put(svc, staff("WT-G03"), follow_up_visit(), "k2")

    assert response.status_code == 200, response.text
    assert replay.json()["replayed"] is True
    await svc.drain()
    (completed,) = [json.loads(r.body) for r in svc.records[TOPIC]
                    if r.headers["ce_type"] == "inspection.InspectionCompleted.v1"]  # fmt: skip
    assert completed["follow_ups"] == [{"order_id": "O1", "rectified": True}]
    done = await svc.client.get("/follow-ups?status=done", headers=staff("WT-G03"))
    (row,) = done.json()["follow_ups"]
    assert (row["visit_id"], row["rectified"]) == (VISIT, True)
    assert (await svc.client.get("/follow-ups", headers=staff("WT-G03"))).json()["follow_ups"] == []


async def test_a_verdict_on_an_order_that_is_not_the_propertys_changes_nothing(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)
    await registered(svc, "P2")
    await svc.deliver(ordered("O2", property_id="P2"))

    unknown = await put(svc, staff("WT-G03"), follow_up_visit(
        follow_ups=[{"order_id": "NOPE", "rectified": True}]), "k1")  # fmt: skip
    others = await put(svc, staff("WT-G03"), follow_up_visit(
        follow_ups=[{"order_id": "O2", "rectified": False}]), "k2")  # fmt: skip
    nobody_home = await put(svc, staff("WT-G03"), follow_up_visit(
        property_id="P2", outcome="nobody_home",
        follow_ups=[{"order_id": "O2", "rectified": False}]), "k3")  # fmt: skip

    for response in (unknown, others):
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "follow_ups", 0, "order_id"]
    assert nobody_home.status_code == 422
    async with svc.runtime.sessionmaker() as session:
        done = await session.scalar(
            select(func.count()).select_from(follow_ups).where(follow_ups.c.status == "done")
        )
    assert done == 0
    await svc.drain()
    assert [r for r in svc.records.get(TOPIC, [])
            if r.headers["ce_type"] == "inspection.InspectionCompleted.v1"] == []  # fmt: skip
