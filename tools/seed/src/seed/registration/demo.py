"""Drive one declaration end to end against a running registration API.

Registers a rental property as its landlord, declares a tenant's move-in, reads it back,
then waits until the figures consumer has counted it: HTTP -> database + outbox ->
relay -> Kafka -> consumer (inbox) -> read model. Exit code 0 when all of it happened.
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime

import httpx

from common.auth import mint_token
from common.identity import check_character

GRID = "WT-DEMO-01"


def demo_identity_number() -> str:
    """A valid identity number (region 440306, born 1990-01-01) with a random sequence."""
    first17 = f"44030619900101{uuid.uuid4().int % 1000:03d}"
    return first17 + check_character(first17)


def run_demo(base_url: str, jwt_secret: str, *, timeout_s: float = 30.0) -> int:
    landlord = mint_token(
        jwt_secret,
        sub="demo-landlord",
        role="landlord",
        party_id="L-DEMO",
        scopes=["registration:write", "registration:read"],
    )
    officer = mint_token(
        jwt_secret,
        sub="demo-officer",
        role="officer",
        grids=[GRID],
        scopes=["registration:read", "pii:read"],
    )
    admin = mint_token(
        jwt_secret,
        sub="demo-admin",
        role="admin",
        scopes=["registration:write", "registration:read"],
    )
    month = datetime.now(UTC).strftime("%Y-%m")
    with httpx.Client(base_url=base_url, timeout=10) as http:

        def call(method: str, path: str, token: str, **kw: object) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
            response = http.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
            result: dict[str, object] = response.json()
            return result

        grid = http.get(f"/grids/{GRID}", headers={"Authorization": f"Bearer {admin}"})
        if grid.status_code == 404:  # properties are registered in a grid of the office's
            call(
                "POST",
                "/grids",
                admin,
                json={"grid_id": GRID, "name": "Demo grid", "community": "Wentang"},
            )
        before = call("GET", f"/figures/grids/{GRID}?month={month}", officer)["declarations"]
        prop = call(
            "POST",
            "/properties",
            landlord,
            json={
                "address": "Wentang Village, Lane 3, No. 12",
                "grid_id": GRID,
                "landlord_id": "L-DEMO",
                "rooms": [{"room_no": "101", "capacity": 2}],
            },
        )
        print(f"registered property {prop['property_id']} in grid {GRID}")
        residence = call(
            "POST",
            f"/properties/{prop['property_id']}/residences",
            landlord,
            json={
                "id_number": demo_identity_number(),
                "name": "Demo Tenant",
                "phone": "13800000000",
                "room_no": "101",
                "moved_in_on": datetime.now(UTC).date().isoformat(),
            },
        )
        print(
            f"declared move-in {residence['residence_id']} of person {residence['person_ref']}"
            f" (on time: {residence['on_time']}, deadline {residence['deadline']})"
        )
        listed = call("GET", f"/properties/{prop['property_id']}", landlord)["residences"]
        assert isinstance(listed, list) and len(listed) == 1, listed
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            figures = call("GET", f"/figures/grids/{GRID}?month={month}", officer)
            if isinstance(before, int) and figures["declarations"] == before + 1:
                print(f"consumer counted it: grid {GRID} {month}: {figures}")
                return 0
            time.sleep(0.2)
    print(
        f"the declaration did not reach the figures consumer within {timeout_s:.0f} s",
        file=sys.stderr,
    )
    return 1
