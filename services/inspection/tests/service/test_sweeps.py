"""Sweeps (清查) over the registry: coverage from visits, discoveries, completion."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from common.identity import check_character
from common.testing import Running
from inspection.events import FINDINGS_TOPIC, TOPIC
from inspection.upstream.registration import (
    Channel,
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
    ResidenceDeclared,
    RoomCapacity,
)

Staff = Callable[..., dict[str, str]]
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # as conftest


def number(seq: int) -> str:
    first17 = f"44030619900101{seq:03d}"
    return first17 + check_character(first17)


async def grid(svc: Running) -> None:
    for pid, rooms in (("A", ("101", "102")), ("B", ("101",))):
        caps = [RoomCapacity(room_no=r, capacity=2) for r in rooms]
        await svc.deliver(PropertyRegistered(property_id=pid, grid_id="WT-G03", rooms=caps))
    for n, (pid, room) in enumerate((("A", "101"), ("A", "101"), ("B", "101"))):
        await svc.deliver(
            ResidenceDeclared(residence_id=f"R{n}", property_id=pid, grid_id="WT-G03",
                              room_no=room, person_ref=f"P{n}",
                              moved_in_on="2026-02-01",  # type: ignore[arg-type]
                              channel=Channel.LANDLORD_SELF_DECLARATION)
        )  # fmt: skip


async def call(svc: Running, method: str, url: str, headers: dict[str, str], key: str,
               body: Any = None) -> Any:  # fmt: skip
    response = await svc.client.request(
        method, url, json=body, headers={**headers, "Idempotency-Key": key}
    )
    return response


async def test_a_sweep_follows_coverage_finds_a_building_and_closes_with_its_figures(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await grid(svc)
    officer = staff("WT-G03")
    planned = await call(svc, "POST", "/sweeps", officer, "s", {
        "grid_ids": ["WT-G03"], "starts_on": "2026-03-09", "ends_on": "2026-03-10",
        "team": ["officer-0317", "worker-0211"], "volunteers": 4,
    })  # fmt: skip
    assert planned.status_code == 201, planned.text
    sweep_id = planned.json()["sweep_id"]

    visit = {
        "version": 1, "property_id": "A", "sweep_id": sweep_id, "outcome": "visited",
        "captured_at": "2026-03-09T00:30:00Z", "completed": True, "rooms_entered": ["102"],
        "occupants": [{"room_no": "101", "id_number": number(1), "full_name": "Wang Wu"}],
    }  # fmt: skip
    submitted = await call(svc, "PUT", "/visits/aaaaaaaa-0000-0000-0000-000000000001", officer,
                           "v", visit)  # fmt: skip
    assert submitted.status_code == 200, submitted.text
    found = await call(svc, "POST", f"/sweeps/{sweep_id}/discoveries", officer, "d", {
        "grid_id": "WT-G03", "address": "7 Back Lane", "rooms": [{"room_no": "1F",
                                                                   "capacity_estimate": 4}],
    })  # fmt: skip
    assert found.status_code == 201, found.text

    await svc.drain()
    (met,) = [json.loads(r.body) for r in svc.records[FINDINGS_TOPIC]]
    settled = OccupantFindingSettled(  # registration: not declared in that room, registered now
        finding_id=met["finding_id"], property_id="A", outcome=FindingOutcome.REGISTERED,
        settled_at=NOW,
    )  # fmt: skip
    await svc.deliver(settled)
    await svc.deliver(settled)  # redelivered: counted once

    progress = (await svc.client.get(f"/sweeps/{sweep_id}", headers=officer)).json()
    assert progress["persons_registered"] == 1
    assert (progress["buildings"], progress["buildings_visited"]) == (2, 1)
    assert (progress["households"], progress["households_entered"]) == (3, 2)
    assert (progress["persons_declared"], progress["persons_seen"]) == (3, 1)
    assert progress["missing_buildings"] == ["B"]
    assert progress["unseen_persons"] == [
        {"property_id": "A", "room_no": "101", "declared_not_seen": 1},
        {"property_id": "B", "room_no": "101", "declared_not_seen": 1},
    ]
    closed = await call(svc, "POST", f"/sweeps/{sweep_id}/complete", officer, "c")
    again = await call(svc, "POST", f"/sweeps/{sweep_id}/complete", officer, "c2")

    assert closed.status_code == 200, closed.text
    assert again.status_code == 409
    await svc.drain()
    events = {r.headers["ce_type"]: json.loads(r.body) for r in svc.records[TOPIC]}
    assert events["inspection.VolunteersRequested.v1"]["volunteers"] == 4
    assert events["inspection.PropertyDiscovered.v1"]["sweep_id"] == sweep_id
    done = events["inspection.SweepCompleted.v1"]
    assert (done["buildings_covered"], done["households_covered"], done["persons_met"],
            done["persons_registered"], done["new_rentals_found"]) == (1, 2, 1, 1, 1)  # fmt: skip


async def test_sweeps_are_checked_and_refused_ones_change_nothing(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await grid(svc)
    plan = {"grid_ids": ["WT-G03"], "starts_on": "2026-03-09", "ends_on": "2026-03-10",
            "team": ["officer-0317"]}  # fmt: skip

    outside = await call(svc, "POST", "/sweeps", staff("WT-G05"), "a", plan)
    worker = await call(svc, "POST", "/sweeps", staff("WT-G03", role="grid_worker"), "b", plan)
    backwards = await call(svc, "POST", "/sweeps", staff("WT-G03"), "c",
                           plan | {"ends_on": "2026-03-01"})  # fmt: skip
    planned = await call(svc, "POST", "/sweeps", staff("WT-G03"), "d", plan)
    sweep_id = planned.json()["sweep_id"]
    off_day = await call(svc, "PUT", "/visits/bbbbbbbb-0000-0000-0000-000000000002",
                         staff("WT-G03"), "e", {
        "version": 1, "property_id": "A", "sweep_id": sweep_id, "outcome": "nobody_home",
        "captured_at": "2026-03-08T00:30:00Z", "completed": True})  # fmt: skip

    assert (outside.status_code, worker.status_code) == (403, 403)
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["body", "ends_on"]
    assert off_day.status_code == 422
    assert off_day.json()["detail"][0]["loc"] == ["body", "captured_at"]
