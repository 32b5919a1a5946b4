"""Drive one spot-check end to end across registration and inspection.

Registers a building in registration, waits until inspection's registry has it (from
``registration.events``), draws a plan that picks it, submits a completed visit that meets
someone nobody declared there, and waits until registration has declared them (channel
``officer``, from ``inspection.findings.restricted``). Exit code 0 when all of it happened.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx

from common.auth import mint_token
from common.identity import check_character

GRID = "WT-DEMO-02"
LANDLORD = "L-DEMO-INSPECTION"


def run_demo(
    inspection_url: str, registration_url: str, secret: str, *, timeout_s: float = 60.0
) -> int:
    def token(role: str, *, grids: list[str] | None = None, party: str | None = None) -> str:
        scopes = ["registration:write", "registration:read", "inspection:write", "inspection:read"]
        return mint_token(secret, sub=f"demo-{role}", role=role, grids=grids, party_id=party,
                          scopes=scopes)  # fmt: skip

    def call(base: str, method: str, path: str, bearer: str, **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": str(uuid.uuid4())}
        return httpx.request(method, base + path, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]

    def ok(response: httpx.Response) -> dict[str, object]:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.method} {response.request.url}: "
                               f"{response.status_code} {response.text}")  # fmt: skip
        result: dict[str, object] = response.json()
        return result

    officer = token("officer", grids=[GRID])
    body = {"grid_id": GRID, "name": "Inspection demo grid", "community": "Wentang"}
    grid = call(registration_url, "POST", "/grids", token("admin"), json=body)
    if grid.status_code != 201 and "already" not in grid.text:
        ok(grid)
    prop = ok(call(registration_url, "POST", "/properties", token("landlord", party=LANDLORD),
                   json={"address": "Wentang Village, Lane 8, No. 3", "grid_id": GRID,
                         "landlord_id": LANDLORD,
                         "rooms": [{"room_no": "101", "capacity": 2}]}))  # fmt: skip
    property_id = str(prop["property_id"])
    print(f"registered property {property_id} in grid {GRID} (registration)")

    deadline = time.monotonic() + timeout_s
    month = datetime.now(UTC).strftime("%Y-%m")
    while True:  # inspection's registry takes it from registration.events
        plan = call(inspection_url, "POST", "/plans", officer,
                    json={"grid_id": GRID, "month": month, "size": 500})  # fmt: skip
        if plan.status_code == 201:
            explained = ok(call(inspection_url, "GET", f"/plans/{plan.json()['plan_id']}", officer))
            picks = explained["picks"]
            assert isinstance(picks, list)
            pick = next((p for p in picks if p["property_id"] == property_id), None)
            if pick is not None:
                break
        if time.monotonic() > deadline:
            print("inspection's registry never showed the property")
            return 1
        time.sleep(0.3)
    print(f"plan {explained['plan_id']} picked it: risk {pick['risk']}, because {pick['because']}")

    first17 = f"44190019950101{uuid.uuid4().int % 1000:03d}"
    visit = {"version": 1, "property_id": property_id, "plan_id": explained["plan_id"],
             "captured_at": datetime.now(UTC).isoformat(), "outcome": "visited",
             "completed": True,
             "occupants": [{"room_no": "101", "id_number": first17 + check_character(first17),
                            "full_name": "Demo Occupant"}],
             "hazards": [{"item": "no_extinguisher", "passed": False}]}  # fmt: skip
    ok(call(inspection_url, "PUT", f"/visits/{uuid.uuid4()}", officer, json=visit))
    print("visit submitted: one occupant nobody declared, one hazard (inspection)")

    while True:  # registration declares them from the restricted findings topic
        seen = ok(call(registration_url, "GET", f"/properties/{property_id}", officer))
        residences = seen["residences"]
        assert isinstance(residences, list)
        if any(r["channel"] == "officer" for r in residences):
            print("registration declared the occupant the visit found (channel officer)")
            return 0
        if time.monotonic() > deadline:
            print("registration never declared the occupant")
            return 1
        time.sleep(0.3)
