"""The enforcement loop across services, each its own process on real Kafka and
PostgreSQL: registration's and inspection's events become penalties' cases, decisions and
notices; inspection's follow-up verifies an order (issue 12)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from common.auth import mint_token
from penalties.events import NOTICES_TOPIC
from penalties.events import TOPIC as PENALTIES_TOPIC
from tests.integration.services import (
    SECRET,
    ServiceProcess,
    caught_up,
    identity_number,
    produce,
    read_topic,
    register_grid,
    running,
    token,
)

pytestmark = pytest.mark.integration


def penalties_officer(grid: str) -> str:
    return mint_token(SECRET, sub="it-officer", role="officer", grids=[grid],
                      scopes=["penalties:write", "penalties:read"])  # fmt: skip


def wait_for(probe: Any, what: str, service: ServiceProcess, wait_s: float = 60.0) -> Any:
    """Poll ``probe`` until it returns something truthy (a bound, not a budget)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen in {wait_s} s\n{service.tail()}")


def new_property(registration: ServiceProcess, grid: str, landlord_id: str) -> str:
    register_grid(registration, grid)
    created = registration.call(
        "POST", "/properties", token("landlord", party_id=landlord_id),
        json={"address": "Enforcement Lane 3", "grid_id": grid, "landlord_id": landlord_id,
              "rooms": [{"room_no": "101", "capacity": 2}, {"room_no": "102", "capacity": 2}]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return str(created.json()["property_id"])


def test_a_late_declaration_is_warned_with_a_notice_for_the_landlord(
    kafka: str, registration: ServiceProcess, penalties_service: ServiceProcess
) -> None:
    office = penalties_service
    grid = f"PN-{uuid.uuid4().hex[:6]}"
    landlord_id = f"L-{uuid.uuid4().hex[:6]}"
    with running(registration), running(office):
        property_id = new_property(registration, grid, landlord_id)
        landlord = token("landlord", party_id=landlord_id)
        late = registration.call(
            "POST", f"/properties/{property_id}/residences", landlord,
            json={"id_number": identity_number(811), "name": "Chen Liu", "room_no": "101",
                  "moved_in_on": (date.today() - timedelta(days=12)).isoformat()},
        )  # fmt: skip
        assert late.status_code == 201, late.text
        assert late.json()["deadline"] < date.today().isoformat(), late.json()

        officer = penalties_officer(grid)

        def case() -> Any:
            listed = office.call("GET", f"/cases?property_id={property_id}", officer).json()
            return listed["cases"][0] if listed.get("cases") else None

        opened = wait_for(case, "a case of the late declaration", office)
        body = wait_for(
            lambda: _with_notice(office.call("GET", f"/cases/{opened['case_id']}", officer).json()),
            "the warning and its notice",
            office,
        )
        assert body["status"] == "closed" and body["outcome"] == "warned"
        (count,) = body["counts"]
        assert count["breach"] == "late_declaration"
        (notice,) = body["notices"]
        assert notice["recipient"]["party_id"] == landlord_id
        assert notice["recipient"]["address"] == "Enforcement Lane 3"
        assert "Chen Liu" not in json.dumps(body)  # a case names rooms and days, not people

        case_id = opened["case_id"]
        published = asyncio.run(read_topic(kafka, PENALTIES_TOPIC, key=case_id, expect=4))
        types = [dict(r.headers)["ce_type"].decode() for r in published]
        assert types == [
            "penalties.CaseOpened.v1", "penalties.BreachRecorded.v1",
            "penalties.WarningIssued.v1", "penalties.CaseClosed.v1",
        ]  # fmt: skip
        (served,) = asyncio.run(read_topic(kafka, NOTICES_TOPIC, key=case_id, expect=1))
        assert json.loads(served.value)["recipient"]["party_id"] == landlord_id


def _with_notice(case: dict[str, Any]) -> dict[str, Any] | None:
    return case if case.get("notices") and case.get("status") == "closed" else None


def inspector(grid: str) -> str:
    return mint_token(SECRET, sub="it-officer", role="officer", grids=[grid],
                      scopes=["inspection:write", "inspection:read"])  # fmt: skip


def visit(
    office: ServiceProcess, grid: str, property_id: str, *, occupants: list[dict[str, str]],
    follow_ups: list[dict[str, Any]] | None = None,
) -> str:  # fmt: skip
    visit_id = str(uuid.uuid4())
    body: dict[str, Any] = {
        "version": 1, "property_id": property_id, "outcome": "visited", "completed": True,
        "captured_at": datetime.now(UTC).isoformat(), "occupants": occupants,
        "hazards": [{"item": "fire_exit_blocked", "passed": True}],
    }  # fmt: skip
    if follow_ups is not None:
        body["follow_ups"] = follow_ups
    response = office.call("PUT", f"/visits/{visit_id}", inspector(grid), json=body)
    assert response.status_code == 200, response.text
    return visit_id


def case_events(kafka: str, case_id: str, expect: int, wait_s: float = 30.0) -> list[str]:
    records = asyncio.run(
        read_topic(kafka, PENALTIES_TOPIC, key=case_id, expect=expect, wait_s=wait_s)
    )
    return [dict(r.headers)["ce_type"].decode().split(".")[1] for r in records]


async def replay(kafka: str, topic: str, keys: set[str]) -> int:
    """Produce again every record of ``topic`` with one of ``keys``, headers and all (the
    same ``ce_id``: a redelivery)."""
    copies = []
    for key in keys:
        for r in await read_topic(kafka, topic, key=key, expect=10_000, wait_s=3):
            copies.append((topic, r.key, r.value, list(r.headers)))
    await produce(kafka, copies)
    return len(copies)


def test_the_enforcement_loop_across_three_services(
    kafka: str,
    registration: ServiceProcess,
    inspection_service: ServiceProcess,
    penalties_service: ServiceProcess,
) -> None:
    """A tenant found undeclared on a visit is registered, the landlord's case opens with
    an order; at its deadline (penalties restarted with its clock moved there, killed in
    the middle) one follow-up finds it unfixed and a fine follows, another finds it fixed
    and the case closes. Every input delivered twice changes nothing."""
    office, pens = inspection_service, penalties_service
    grid = f"EL-{uuid.uuid4().hex[:6]}"
    landlord_id = f"L-{uuid.uuid4().hex[:6]}"
    with running(registration), running(office), running(pens):
        unfixed = new_property(registration, grid, landlord_id)
        fixed = new_property(registration, grid, landlord_id)
        wait_for(
            lambda: office.call("GET", f"/grids/{grid}/properties", inspector(grid)).json().get(
                "total") == 2,
            "inspection's registry of the two buildings", office,
        )  # fmt: skip
        started = time.monotonic()
        for n, property_id in enumerate((unfixed, fixed)):
            visit(office, grid, property_id, occupants=[
                {"room_no": "101", "id_number": identity_number(700 + n), "full_name": "Zhao Qi"}
            ])  # fmt: skip
        officer = penalties_officer(grid)

        def orders() -> list[dict[str, Any]] | None:
            listed = pens.call("GET", f"/orders?grid_id={grid}", officer).json()
            found = listed.get("orders", [])
            return found if len(found) == 2 else None

        ordered = {o["property_id"]: o for o in wait_for(orders, "two orders", pens)}
        loop_s = time.monotonic() - started
        wait_for(
            lambda: len(office.call("GET", f"/follow-ups?grid_id={grid}", inspector(grid))
                        .json().get("follow_ups", [])) == 2,
            "inspection's follow-ups of both orders", office,
        )  # fmt: skip

        # Penalties killed, and back with its clock on the orders' deadline day.
        deadline = date.fromisoformat(ordered[unfixed]["deadline"])
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        pens.kill()
        pens.start({"PENALTIES_CLOCK_OFFSET_S": str((deadline - today).days * 86_400)})

        for property_id, rectified in ((unfixed, False), (fixed, True)):
            order_id = ordered[property_id]["order_id"]
            visit(office, grid, property_id, occupants=[],
                  follow_ups=[{"order_id": order_id, "rectified": rectified}])  # fmt: skip

        fined = ordered[unfixed]["case_id"]
        closed = ordered[fixed]["case_id"]
        assert case_events(kafka, fined, 6) == [
            "CaseOpened", "BreachRecorded", "RectificationOrdered", "CaseEscalated",
            "PenaltyIssued", "CaseClosed",
        ]  # fmt: skip
        assert case_events(kafka, closed, 5) == [
            "CaseOpened", "BreachRecorded", "RectificationOrdered", "RectificationVerified",
            "CaseClosed",
        ]  # fmt: skip
        escalated = pens.call("GET", f"/cases/{fined}", officer).json()
        assert escalated["outcome"] == "penalised"
        assert [d["escalation_reason"] for d in escalated["decisions"]] == [
            None, "follow_up_failed",
        ]  # fmt: skip
        assert [n["action"] for n in escalated["notices"]] == ["rectification_order", "fine"]

        # Everything penalties consumed, delivered again: nothing changes.
        replayed = asyncio.run(replay(kafka, "registration.events", {unfixed, fixed}))
        replayed += asyncio.run(replay(kafka, "inspection.events", {unfixed, fixed}))
        assert replayed >= 8
        for group, topic in (("penalties.registration", "registration.events"),
                             ("penalties.inspection", "inspection.events")):  # fmt: skip
            assert asyncio.run(caught_up(kafka, group, topic)), pens.tail()
        assert case_events(kafka, fined, 7, wait_s=3) == case_events(kafka, fined, 6)
        assert case_events(kafka, closed, 6, wait_s=3) == case_events(kafka, closed, 5)
        cases = pens.call("GET", f"/cases?grid_id={grid}", officer).json()["cases"]
        assert len(cases) == 2
        print(f"enforcement loop: visit -> order on penalties in {loop_s:.1f} s")
