"""Visits (三位一體) from the field: one submission, idempotent, versioned; what a
completed visit publishes (issue 11, items 2 and 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from common.identity import check_character
from common.testing import Running
from inspection.adapters.registry_tables import registry_properties
from inspection.adapters.visits_tables import visit_hazards, visit_occupants, visits
from inspection.events import FINDINGS_TOPIC, TOPIC
from inspection.upstream.registration import PropertyRegistered, RoomCapacity

Staff = Callable[..., dict[str, str]]
VISIT = "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d"


def number(seq: int) -> str:
    first17 = f"44030619900101{seq:03d}"
    return first17 + check_character(first17)


def visit(**overrides: Any) -> dict[str, Any]:
    body = {
        "version": 1,
        "property_id": "P1",
        "captured_at": "2026-03-08T11:20:00Z",  # 19:20 in Dongguan: the evening shift
        "outcome": "visited",
        "notes": "Landlord present; two tenants at home",
        "occupants": [
            {"room_no": "101", "id_number": number(1), "full_name": "Wang Wu",
             "phone": "13912345678", "moved_in_on": "2026-03-01"},
            {"room_no": "102", "id_number": number(2), "full_name": "Li Si"},
        ],
        "hazards": [
            {"item": "fire_exit_blocked", "passed": False, "note": "Bicycles in the stairwell"},
            {"item": "exposed_wiring", "passed": True},
        ],
        "completed": True,
    }  # fmt: skip
    return body | overrides


async def put(svc: Running, headers: dict[str, str], body: dict[str, Any], key: str) -> Any:
    return await svc.client.put(
        f"/visits/{VISIT}", json=body, headers={**headers, "Idempotency-Key": key}
    )


async def registered(svc: Running) -> None:
    rooms = [RoomCapacity(room_no="101", capacity=2), RoomCapacity(room_no="102", capacity=2)]
    await svc.deliver(PropertyRegistered(property_id="P1", grid_id="WT-G03", rooms=rooms))


async def count(svc: Running, table: Any) -> int:
    async with svc.runtime.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_a_completed_visit_publishes_each_occupant_each_hazard_and_itself(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)

    response = await put(svc, staff("WT-G03"), visit(), "v1")

    assert response.status_code == 200, response.text
    assert response.json()["hazards_failed"] == 1
    await svc.drain()
    found = [json.loads(r.body) for r in svc.records[FINDINGS_TOPIC]]
    assert sorted(f["id_number"] for f in found) == [number(1), number(2)]
    assert {f["property_id"] for f in found} == {"P1"}
    public = {r.headers["ce_type"]: json.loads(r.body) for r in svc.records[TOPIC]}
    hazard = public["inspection.HazardFound.v1"]
    assert (hazard["item"], hazard["severity"], hazard["correction_working_days"]) == (
        "fire_exit_blocked", "high", 3,
    )  # fmt: skip
    assert hazard["correct_by"] == "2026-03-11"  # three working days after Sunday the 8th
    done = public["inspection.InspectionCompleted.v1"]
    assert (done["occupants_met"], done["hazards_failed"], done["evening"]) == (2, 1, True)
    published = b"".join(r.body for r in svc.records[TOPIC])
    assert number(1).encode() not in published and b"Wang Wu" not in published
    async with svc.runtime.sessionmaker() as session:
        last = await session.scalar(select(registry_properties.c.last_visited_on))
        stored = (await session.execute(select(visit_occupants))).all()
    assert last == date(2026, 3, 8)  # the next plans weigh the visit
    assert all(number(1).encode() not in bytes(row.id_number_enc) for row in stored)


async def test_a_draft_then_its_next_version_then_a_replay(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)
    officer = staff("WT-G03")

    draft = await put(svc, officer, visit(completed=False, hazards=[]), "a")
    final = await put(svc, officer, visit(version=2), "b")
    again = await put(svc, officer, visit(version=2), "c")  # sent twice from the phone

    assert [r.status_code for r in (draft, final, again)] == [200, 200, 200]
    assert again.json()["replayed"] is True
    await svc.drain()
    types = [r.headers["ce_type"] for r in svc.records[TOPIC]]
    assert types.count("inspection.InspectionCompleted.v1") == 1
    assert len(svc.records[FINDINGS_TOPIC]) == 2
    read = (await svc.client.get(f"/visits/{VISIT}", headers=officer)).json()
    assert (read["version"], read["completed"], read["evening"]) == (2, True, True)
    assert read["captured_at"] != read["received_at"]  # captured on site, received later
    assert [o["id_number_masked"][:4] for o in read["occupants"]] == ["4403", "4403"]
    assert "Wang Wu" not in json.dumps(read)


async def test_stale_and_conflicting_versions_are_a_409_and_change_nothing(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)
    officer = staff("WT-G03")
    await put(svc, officer, visit(completed=False), "a")
    await put(svc, officer, visit(version=2, completed=False, notes="more"), "b")

    stale = await put(svc, officer, visit(version=1, notes="edited offline"), "c")
    skipped = await put(svc, officer, visit(version=4), "d")
    first_unknown = await svc.client.put(
        "/visits/0000aaaa-0000-0000-0000-000000000000",
        json=visit(version=3),
        headers={**officer, "Idempotency-Key": "e"},
    )
    other_officer = await put(svc, staff("WT-G03", role="grid_worker"), visit(version=3), "f")

    assert [r.status_code for r in (stale, skipped, first_unknown, other_officer)] == [409] * 4
    assert "stored version 2" in stale.json()["detail"]
    async with svc.runtime.sessionmaker() as session:
        row = (await session.execute(select(visits.c.version, visits.c.completed))).one()
    assert tuple(row) == (2, False)
    await svc.drain()
    assert svc.records[TOPIC] == [] and svc.records[FINDINGS_TOPIC] == []


async def test_a_completed_visit_cannot_change(inspection: Running, staff: Staff) -> None:
    svc = inspection
    await registered(svc)
    await put(svc, staff("WT-G03"), visit(), "a")

    edit = await put(svc, staff("WT-G03"), visit(version=2, notes="afterthought"), "b")

    assert edit.status_code == 409
    assert "completed" in edit.json()["detail"]


async def test_bad_visits_are_refused_naming_the_field_and_change_nothing(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection
    await registered(svc)
    officer = staff("WT-G03")
    bad_number = visit()
    bad_number["occupants"][0]["id_number"] = number(1)[:17] + (
        "0" if number(1)[17] != "0" else "1"
    )
    cases = {
        "occupants.0.id_number": bad_number,
        "hazards.1.item": visit(
            hazards=[
                {"item": "fire_exit_blocked", "passed": True},
                {"item": "ghosts", "passed": False},
            ]
        ),
        "occupants.1.room_no": visit(
            occupants=[visit()["occupants"][0], {**visit()["occupants"][1], "room_no": "909"}]
        ),
        "property_id": visit(property_id="P404"),
        "outcome": visit(outcome="nobody_home"),
    }

    for field, body in cases.items():
        response = await put(svc, officer, body, field)
        assert response.status_code == 422, (field, response.text)
        loc = [int(p) if p.isdigit() else p for p in field.split(".")]  # indexes as ints
        assert response.json()["detail"][0]["loc"] == ["body", *loc], field
    outside = await put(svc, staff("WT-G05"), visit(), "outside")
    future = await put(svc, officer, visit(captured_at="2026-03-10T00:00:00Z"), "future")

    assert outside.status_code == 403
    assert future.status_code == 422
    assert [await count(svc, t) for t in (visits, visit_occupants, visit_hazards)] == [0, 0, 0]
