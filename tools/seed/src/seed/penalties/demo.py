"""Drive the enforcement loop end to end across registration, inspection and penalties.

Registers a building in registration and waits until inspection's registry has it. A
visit meets a tenant nobody declared: registration registers them, penalties opens the
landlord's case and orders the property rectified (``RectificationOrdered``), and
inspection schedules the follow-up. The follow-up visit finds it fixed and the case closes
(``RectificationVerified``). A later visit meets another undeclared tenant there: a repeat
within the schedule's look-back, fined at once (``PenaltyIssued``). An order nobody
verifies escalates to a fine by its timer on its deadline day, working days ahead:
``tests/integration/test_enforcement_loop.py`` shows that path with the clock moved.
Exit code 0 when all of it happened.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from common.auth import mint_token
from common.identity import check_character

GRID = "WT-DEMO-03"
LANDLORD = "L-DEMO-PENALTIES"
SERVICES = ("registration", "inspection", "penalties")
SCOPES = [f"{service}:{mode}" for service in SERVICES for mode in ("read", "write")]

T = TypeVar("T")


class DemoFailed(RuntimeError):
    pass


def run_demo(
    penalties_url: str,
    registration_url: str,
    inspection_url: str,
    secret: str,
    *,
    timeout_s: float = 60.0,
) -> int:
    def token(role: str, *, party: str | None = None) -> str:
        grids = [GRID] if role == "officer" else None
        return mint_token(secret, sub=f"demo-{role}", role=role, grids=grids, party_id=party,
                          scopes=SCOPES)  # fmt: skip

    officer = token("officer")

    def call(base: str, method: str, path: str, bearer: str = officer, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": str(uuid.uuid4())}
        response = httpx.request(method, base + path, headers=headers, timeout=10, **kw)
        if response.status_code >= 300:
            raise DemoFailed(f"{method} {base}{path}: {response.status_code} {response.text}")
        return response.json()

    def wait(what: str, probe: Callable[[], T | None]) -> T:
        deadline = time.monotonic() + timeout_s
        while (found := probe()) is None:
            if time.monotonic() > deadline:
                raise DemoFailed(f"waited {timeout_s:.0f} s for {what}")
            time.sleep(0.3)
        return found

    def visit(property_id: str, *, occupant: str | None = None,
              follow_ups: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        occupants = []
        if occupant:
            first17 = f"44190019960202{uuid.uuid4().int % 1000:03d}"
            occupants.append({"room_no": "101", "id_number": first17 + check_character(first17),
                              "full_name": occupant})  # fmt: skip
        body = {"version": 1, "property_id": property_id, "outcome": "visited",
                "completed": True, "captured_at": datetime.now(UTC).isoformat(),
                "occupants": occupants, "hazards": [{"item": "fire_exit_blocked", "passed": True}],
                "follow_ups": follow_ups or []}  # fmt: skip
        call(inspection_url, "PUT", f"/visits/{uuid.uuid4()}", json=body)

    def case_of(
        property_id: str, *, outcome: str | None = None, besides: str | None = None
    ) -> dict[str, Any] | None:
        """The property's case (other than ``besides``) once decided (with ``outcome``)."""
        listed = call(penalties_url, "GET", f"/cases?property_id={property_id}")["cases"]
        ids = [c["case_id"] for c in listed if c["case_id"] != besides]
        if not ids:
            return None
        case: dict[str, Any] = call(penalties_url, "GET", f"/cases/{ids[0]}")
        if outcome is None:
            return case if case["decisions"] else None
        return case if case["outcome"] == outcome else None

    try:
        grid = {"grid_id": GRID, "name": "Penalties demo grid", "community": "Wentang"}
        call(registration_url, "POST", "/grids", token("admin"), json=grid)
    except DemoFailed as e:
        if "already" not in str(e):
            raise
    rooms = [{"room_no": "101", "capacity": 2}]
    prop = call(registration_url, "POST", "/properties", token("landlord", party=LANDLORD),
                json={"address": "Wentang Village, Lane 11, No. 5", "grid_id": GRID,
                      "landlord_id": LANDLORD, "rooms": rooms})  # fmt: skip
    first = str(prop["property_id"])
    print(f"registered building {first} of landlord {LANDLORD} in grid {GRID} (registration)")

    def known() -> bool | None:
        listed = call(inspection_url, "GET", f"/grids/{GRID}/properties?limit=500")
        return True if any(p["property_id"] == first for p in listed["properties"]) else None

    wait("inspection's registry to have the building", known)

    started = time.monotonic()
    visit(first, occupant="Demo Tenant One")
    print("visit 1 met a tenant nobody declared (inspection)")
    case = wait("the landlord's case and its order", lambda: case_of(first))
    (decision,) = case["decisions"]
    ordered_s = time.monotonic() - started
    print(f"case {case['case_id']}: {decision['action']} by {decision['deadline']} under "
          f"{decision['policy_version']}, {ordered_s:.1f} s after the visit")  # fmt: skip
    order_id = decision["decision_id"]

    def follow_up() -> dict[str, Any] | None:
        listed = call(inspection_url, "GET", f"/follow-ups?grid_id={GRID}")["follow_ups"]
        return next((f for f in listed if f["order_id"] == order_id), None)

    due = wait("inspection's follow-up of the order", follow_up)
    print(f"inspection scheduled the follow-up, due {due['deadline']}")

    started = time.monotonic()
    visit(first, follow_ups=[{"order_id": order_id, "rectified": True}])
    closed = wait("the case to close", lambda: case_of(first, outcome="rectified"))
    print(f"follow-up found it fixed: case {closed['status']} ({closed['outcome']}) "
          f"{time.monotonic() - started:.1f} s after the follow-up")  # fmt: skip

    visit(first, occupant="Demo Tenant Two")
    fined = wait(
        "the repeat's fine",
        lambda: case_of(first, outcome="penalised", besides=closed["case_id"]),
    )
    (fine,) = fined["decisions"]
    (notice,) = fined["notices"]
    print(f"a later visit met another undeclared tenant there: a repeat, "
          f"{fine['action']} of {fine['amount_yuan']} yuan; notice to "
          f"{notice['recipient']['party_id']} cites {notice['article'][:40]}...")  # fmt: skip
    return 0
