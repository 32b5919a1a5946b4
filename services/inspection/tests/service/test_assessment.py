"""Staff assessment (考核): a month of each account's plans, visits, shifts and tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from common.identity import check_character
from common.testing import Running
from inspection.upstream.registration import (
    PropertyRegistered,
    RoomCapacity,
    UnregisteredOccupantSuspected,
)

Staff = Callable[..., dict[str, str]]
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # as conftest


def number(seq: int) -> str:
    first17 = f"44030619900101{seq:03d}"
    return first17 + check_character(first17)


async def test_an_officers_month_counts_plans_visits_evenings_findings_and_tasks(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    rooms = [RoomCapacity(room_no="101", capacity=2)]
    for pid in ("A", "B"):
        await svc.deliver(PropertyRegistered(property_id=pid, grid_id="WT-G03", rooms=rooms))
    lead = UnregisteredOccupantSuspected(
        lead_id="L1", property_id="B", grid_id="WT-G03", suspected_at=NOW
    )
    await svc.deliver(lead)
    officer = staff("WT-G03")  # account officer-0317

    def key(k: str) -> dict[str, str]:
        return {**officer, "Idempotency-Key": k}

    plan = await svc.client.post("/plans", json={"grid_id": "WT-G03", "month": "2026-03",
                                                 "size": 2}, headers=key("p"))  # fmt: skip
    assert plan.status_code == 201, plan.text
    for n, (pid, at) in enumerate((("A", "2026-03-08T11:00:00Z"), ("B", "2026-03-09T00:30:00Z"))):
        visit = {"version": 1, "property_id": pid, "plan_id": plan.json()["plan_id"],
                 "captured_at": at, "outcome": "visited", "completed": True,
                 "occupants": [{"room_no": "101", "id_number": number(n), "full_name": "X Y"}],
                 "hazards": [{"item": "no_extinguisher", "passed": n == 1}]}  # fmt: skip
        done = await svc.client.put(f"/visits/cccccccc-0000-0000-0000-00000000000{n}",
                                    json=visit, headers=key(f"v{n}"))  # fmt: skip
        assert done.status_code == 200, done.text
    verified = await svc.client.post("/tasks/L1/verification", json={"outcome": "not_found"},
                                     headers=key("t"))  # fmt: skip
    assert verified.status_code == 200, verified.text

    month = await svc.client.get("/assessment?month=2026-03&grid_id=WT-G03", headers=officer)
    outside = await svc.client.get("/assessment?month=2026-03&grid_id=WT-G05", headers=officer)
    every = await svc.client.get("/assessment?month=2026-03", headers=officer)

    assert month.status_code == 200, month.text
    (me,) = month.json()["staff"]
    assert me["account"] == "officer-0317"
    assert (me["planned"], me["visits_completed"], me["planned_visited"]) == (2, 2, 2)
    assert (me["evening_visits"], me["evening_share"]) == (1, 0.5)  # 19:00 local on the 8th
    assert (me["occupants_met"], me["hazards_found"]) == (2, 1)
    assert (me["tasks_verified"], me["tasks_on_time"], me["tasks_on_time_share"]) == (1, 1, 1.0)
    assert (outside.status_code, every.status_code) == (403, 403)
