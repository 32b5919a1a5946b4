"""The enforcement loop across services, each its own process on real Kafka and
PostgreSQL: registration's and inspection's events become penalties' cases, decisions and
notices; inspection's follow-up verifies an order (issue 12)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from common.auth import mint_token
from penalties.events import NOTICES_TOPIC
from penalties.events import TOPIC as PENALTIES_TOPIC
from tests.integration.services import (
    SECRET,
    ServiceProcess,
    identity_number,
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
