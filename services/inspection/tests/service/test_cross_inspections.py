"""A cross-inspection: a team works another team's grid, and the ranking is circulated."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from common.identity import check_character
from common.testing import Running
from inspection.events import TOPIC
from inspection.upstream.registration import PropertyRegistered, RoomCapacity

Staff = Callable[..., dict[str, str]]


async def post(svc: Running, url: str, body: Any, headers: dict[str, str], key: str) -> Any:
    return await svc.client.post(url, json=body, headers={**headers, "Idempotency-Key": key})


async def test_a_team_visits_another_teams_grid_and_the_ranking_is_circulated(
    inspection: Running, staff: Staff
) -> None:
    svc = inspection

    def token(sub: str, *grids: str, role: str = "officer") -> dict[str, str]:
        return staff(*grids, role=role, sub=sub)

    rooms = [RoomCapacity(room_no="101", capacity=2)]
    await svc.deliver(PropertyRegistered(property_id="S1", grid_id="WT-G05", rooms=rooms))
    admin = token("admin-1", role="admin")
    for team_id, home, member in (("T-NORTH", "WT-G03", "north-1"), ("T-SOUTH", "WT-G05", "s-1")):
        body = {"team_id": team_id, "name": f"Team {team_id}", "home_grids": [home],
                "members": [member]}  # fmt: skip
        assert (await post(svc, "/teams", body, admin, team_id)).status_code == 201
    own = await post(svc, "/cross-inspections", {"month": "2026-03", "assignments": [
        {"team_id": "T-NORTH", "grid_id": "WT-G03"}]}, admin, "own")  # fmt: skip
    cross = await post(svc, "/cross-inspections", {"month": "2026-03", "assignments": [
        {"team_id": "T-NORTH", "grid_id": "WT-G05"},
        {"team_id": "T-SOUTH", "grid_id": "WT-G03"}]}, admin, "x")  # fmt: skip
    assert own.status_code == 422
    assert cross.status_code == 201, cross.text

    first17 = "44030619900101001"
    visit = {"version": 1, "property_id": "S1", "captured_at": "2026-03-08T03:00:00Z",
             "outcome": "visited", "completed": True,
             "occupants": [{"room_no": "101", "id_number": first17 + check_character(first17),
                            "full_name": "Wang Wu"}],
             "hazards": [{"item": "exposed_wiring", "passed": False}]}  # fmt: skip
    # The northern team's member holds a token for WT-G03 only: the assignment lets them in.
    north = token("north-1", "WT-G03")
    stranger = token("other-9", "WT-G03")
    visited = await svc.client.put("/visits/dddddddd-0000-0000-0000-000000000001", json=visit,
                                   headers={**north, "Idempotency-Key": "v"})  # fmt: skip
    refused = await svc.client.put("/visits/dddddddd-0000-0000-0000-000000000002", json=visit,
                                   headers={**stranger, "Idempotency-Key": "w"})  # fmt: skip
    assert visited.status_code == 200, visited.text
    assert refused.status_code == 403

    circulated = await post(svc, f"/cross-inspections/{cross.json()['cross_id']}/circulate",
                            None, admin, "c")  # fmt: skip

    assert circulated.status_code == 200, circulated.text
    ranking = circulated.json()["ranking"]
    assert [(r["rank"], r["team_id"], r["grid_id"]) for r in ranking] == [
        (1, "T-NORTH", "WT-G05"), (2, "T-SOUTH", "WT-G03")]  # fmt: skip
    assert (ranking[0]["visits"], ranking[0]["occupants_met"], ranking[0]["hazards_found"]) == (
        1, 1, 1)  # fmt: skip
    await svc.drain()
    (event,) = [json.loads(r.body) for r in svc.records[TOPIC]
                if r.headers["ce_type"] == "inspection.CrossInspectionRanked.v1"]  # fmt: skip
    assert event["ranking"] == ranking
