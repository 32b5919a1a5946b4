"""Registration and inspection as two processes on real Kafka and PostgreSQL: the registry
inspection keeps of registration's events feeds a spot-check plan, and the plan's draw is
the same again for the same seed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from common.auth import mint_token
from tests.integration.services import (
    SECRET,
    ServiceProcess,
    identity_number,
    produce,
    read_topic,
    register_grid,
    running,
    token,
)


def inspector(grid: str) -> str:
    """An officer's token for inspection in ``grid``."""
    return mint_token(SECRET, sub="it-officer", role="officer", grids=[grid],
                      scopes=["inspection:write", "inspection:read"])  # fmt: skip


async def test_a_plan_is_drawn_from_what_registration_published(
    kafka: str, registration: ServiceProcess, inspection_service: ServiceProcess
) -> None:
    office = inspection_service
    grid = f"IN-{uuid.uuid4().hex[:6]}"
    officer = inspector(grid)
    with running(registration), running(office):
        register_grid(registration, grid)
        landlord = token("landlord", party_id="L-IN")
        properties = []
        for n in range(6):
            created = registration.call(
                "POST", "/properties", landlord,
                json={"address": f"Plan Lane {n}", "grid_id": grid, "landlord_id": "L-IN",
                      "rooms": [{"room_no": "101", "capacity": 1}]},
            )  # fmt: skip
            assert created.status_code == 201, created.text
            properties.append(created.json()["property_id"])
        # The last building: two people declared by the office in a room for one.
        staff = token("officer", grids=[grid])
        for seq in (1, 2):
            declared = registration.call(
                "POST", f"/properties/{properties[-1]}/residences", staff,
                json={"id_number": identity_number(900 + seq), "name": f"Resident {seq}",
                      "room_no": "101", "moved_in_on": date.today().isoformat()},
            )  # fmt: skip
            assert declared.status_code == 201, declared.text

        def plan(seed: str) -> dict[str, Any]:
            response = office.call(
                "POST", "/plans", officer,
                json={"grid_id": grid, "month": date.today().strftime("%Y-%m"), "size": 6,
                      "seed": seed},
            )  # fmt: skip
            assert response.status_code == 201, response.text
            explained = office.call("GET", f"/plans/{response.json()['plan_id']}", officer)
            assert explained.status_code == 200, explained.text
            result: dict[str, Any] = explained.json()
            return result

        deadline = time.monotonic() + 30
        while True:  # until inspection's registry holds the six buildings and both residents
            drawn = plan(uuid.uuid4().hex)
            crowded = [p for p in drawn["picks"] if p["property_id"] == properties[-1]]
            if drawn["candidates"] == 6 and crowded and crowded[0]["signals"]["over_capacity"]:
                break
            assert time.monotonic() < deadline, office.tail()
            await asyncio.sleep(0.3)

        first, again = plan("IT-SEED"), plan("IT-SEED")
        assert [p["property_id"] for p in first["picks"]] == [
            p["property_id"] for p in again["picks"]
        ]
        assert sorted(p["property_id"] for p in first["picks"]) == sorted(properties)
        (busy,) = [p for p in first["picks"] if p["property_id"] == properties[-1]]
        assert busy["because"]["low_self_declaration"] == 3.0  # declared by the office
        assert busy["because"]["over_capacity"] == 3.0  # two in a room for one
        assert busy["risk"] > max(p["risk"] for p in first["picks"] if p is not busy)

        records = await read_topic(kafka, "inspection.events", key=grid, expect=1)
        headers = {k: v.decode() for k, v in records[-1].headers}
        assert headers["ce_type"] == "inspection.SpotCheckPlanned.v1"
        assert headers["ce_source"] == "/services/inspection"
        assert "property_ids" in json.loads(records[-1].value)


async def test_a_visit_meets_a_declared_and_an_undeclared_occupant_and_registration_registers_one(
    kafka: str, registration: ServiceProcess, inspection_service: ServiceProcess
) -> None:
    office = inspection_service
    grid = f"IV-{uuid.uuid4().hex[:6]}"
    officer = inspector(grid)
    declared_number, found_number = identity_number(711), identity_number(712)
    with running(registration), running(office):
        register_grid(registration, grid)
        landlord = token("landlord", party_id="L-IV")
        created = registration.call(
            "POST", "/properties", landlord,
            json={"address": "Visit Lane 1", "grid_id": grid, "landlord_id": "L-IV",
                  "rooms": [{"room_no": "101", "capacity": 2}, {"room_no": "102", "capacity": 2}]},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        property_id = created.json()["property_id"]
        declared = registration.call(
            "POST", f"/properties/{property_id}/residences", landlord,
            json={"id_number": declared_number, "name": "Declared Tenant", "room_no": "101",
                  "moved_in_on": date.today().isoformat()},
        )  # fmt: skip
        assert declared.status_code == 201, declared.text

        visit = {
            "version": 1, "property_id": property_id, "outcome": "visited", "completed": True,
            "captured_at": datetime.now(UTC).isoformat(),
            "occupants": [
                {"room_no": "101", "id_number": declared_number, "full_name": "Declared Tenant"},
                {"room_no": "102", "id_number": found_number, "full_name": "Found Tenant"},
            ],
            "hazards": [{"item": "no_extinguisher", "passed": False}],
        }  # fmt: skip
        deadline = time.monotonic() + 30
        while True:  # until inspection's registry holds the property (from registration)
            submitted = office.call("PUT", f"/visits/{uuid.uuid4()}", officer, json=visit)
            if submitted.status_code == 200:
                break
            assert submitted.status_code == 422, submitted.text
            assert time.monotonic() < deadline, office.tail()
            await asyncio.sleep(0.3)

        staff = token("officer", grids=[grid])
        deadline = time.monotonic() + 30
        while True:  # until registration applied the findings
            residences = registration.call("GET", f"/properties/{property_id}", staff).json()
            by_room = {r["room_no"]: r for r in residences["residences"]}
            if "102" in by_room:
                break
            assert time.monotonic() < deadline, registration.tail()
            await asyncio.sleep(0.3)
        assert len(residences["residences"]) == 2
        assert by_room["101"]["channel"] == "landlord_self_declaration"  # unchanged
        assert by_room["102"]["channel"] == "officer"  # registered by the office's visit

        # Registration says, publicly and pseudonymously, what it made of each finding.
        records = await read_topic(kafka, "registration.events", key=property_id, expect=5)
        settled = sorted(
            json.loads(r.value)["outcome"]
            for r in records
            if dict(r.headers)["ce_type"] == b"registration.OccupantFindingSettled.v1"
        )
        assert settled == ["already_declared", "registered"]
        assert found_number not in b"".join(r.value for r in records).decode()

        hazards = await read_topic(kafka, "inspection.events", key=property_id, expect=2)
        types = sorted(dict(r.headers)["ce_type"].decode() for r in hazards)
        assert types == ["inspection.HazardFound.v1", "inspection.InspectionCompleted.v1"]


async def test_a_lead_from_access_control_is_a_task_whose_verification_closes_it(
    kafka: str, registration: ServiceProcess, inspection_service: ServiceProcess
) -> None:
    office = inspection_service
    grid = f"IL-{uuid.uuid4().hex[:6]}"
    officer = inspector(grid)
    staff = token("officer", grids=[grid])
    with running(registration), running(office):
        register_grid(registration, grid)
        created = registration.call(
            "POST", "/properties", token("landlord", party_id="L-IL"),
            json={"address": "Lead Lane 1", "grid_id": grid, "landlord_id": "L-IL",
                  "rooms": [{"room_no": "101", "capacity": 4}]},
        )  # fmt: skip
        assert created.status_code == 201, created.text
        property_id = created.json()["property_id"]
        number, now = identity_number(733), datetime.now(UTC)
        seen = [now - timedelta(days=1), now - timedelta(hours=2), now - timedelta(minutes=1)]
        await produce(kafka, [access_entry(property_id, number, at) for at in seen])

        deadline = time.monotonic() + 60
        while True:  # registration raises the lead; inspection makes it a task
            tasks = office.call("GET", f"/tasks?grid_id={grid}", officer).json()["tasks"]
            if tasks:
                break
            assert time.monotonic() < deadline, office.tail() + registration.tail()
            await asyncio.sleep(0.3)
        (task,) = tasks
        assert task["property_id"] == property_id
        verified = office.call(
            "POST", f"/tasks/{task['lead_id']}/verification", officer, json={"outcome": "visitor"}
        )
        assert verified.status_code == 200, verified.text

        deadline = time.monotonic() + 30
        while True:  # registration closes its lead on the verification
            (lead,) = registration.call("GET", f"/leads?grid_id={grid}", staff).json()["leads"]
            if lead["status"] != "open":
                break
            assert time.monotonic() < deadline, registration.tail()
            await asyncio.sleep(0.3)
        assert lead["lead_id"] == task["lead_id"]
        done = office.call("GET", f"/tasks?grid_id={grid}&status=done", officer).json()["tasks"]
        assert [t["outcome"] for t in done] == ["visitor"]


def access_entry(
    property_id: str, number: str, at: datetime
) -> tuple[str, bytes, bytes, list[Any]]:
    body = {"device_id": f"gate-{property_id[:8]}", "property_id": property_id,
            "id_number": number, "direction": "in", "at": at.isoformat()}  # fmt: skip
    return ("feeds.access-control", property_id.encode(), json.dumps(body).encode(), [])
