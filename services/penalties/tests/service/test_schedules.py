"""The penalty schedule as effective-dated policy: the version in force on the day of the
breach decides, a later version supersedes without rewriting, a case recomputes "as of" a
date, and a version past its review date is flagged (issue 12, item 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from common.clock import FakeClock
from common.testing import Running
from penalties.settings import DEFAULT_SCHEDULE
from penalties.upstream.registration import (
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
)

NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday (as conftest)

Staff = Callable[..., dict[str, str]]
Published = Callable[..., list[tuple[str, dict[str, Any]]]]


def next_version(**changes: Any) -> dict[str, Any]:
    """The packaged schedule as a new version from 1 April, its overdue fines doubled."""
    document = json.loads(DEFAULT_SCHEDULE.read_text(encoding="utf-8"))
    for rule in document["rules"].values():
        overdue = rule["overdue"]
        overdue["fine_yuan"] = min(overdue["fine_yuan"] * 2, overdue["fine_max_yuan"])
    return document | {"version": "office-2026-2", "effective_from": "2026-04-01",
                       "source": "Office order 2026-7 of 20 March"} | changes  # fmt: skip


async def add(svc: Running, headers: dict[str, str], key: str, body: Any) -> httpx.Response:
    return await svc.client.post(
        "/schedules", json=body, headers={**headers, "Idempotency-Key": key}
    )


async def found(svc: Running, finding: str, at: datetime) -> None:
    await svc.deliver(
        OccupantFindingSettled(
            finding_id=finding,
            property_id="P1",
            grid_id="WT-G03",
            landlord_id="LL-P1",
            room_no="101",
            outcome=FindingOutcome.REGISTERED,
            found_at=at,
            visit_id=finding,
        )
    )


async def test_a_new_version_supersedes_the_open_ended_one_and_overlaps_are_refused(
    penalties: Running, staff: Staff
) -> None:
    svc = penalties
    admin = staff(role="admin")

    by_officer = await add(svc, staff("WT-G03"), "s-0", next_version())
    added = await add(svc, admin, "s-1", next_version())
    overlapping = await add(svc, admin, "s-2", next_version(version="office-2026-3",
                                                            effective_to="2026-06-30"))  # fmt: skip
    exists = await add(svc, admin, "s-3", next_version(effective_from="2026-05-01"))
    bad_fine = next_version(version="office-2026-4", effective_from="2026-07-01")
    bad_fine["rules"]["hazard_low"]["overdue"]["fine_yuan"] = 99_999
    out_of_range = await add(svc, admin, "s-4", bad_fine)

    assert by_officer.status_code == 403
    assert added.status_code == 201, added.text
    assert added.json()["superseded"] == "gd-fpsm-2026-1"
    assert overlapping.status_code == 422
    assert overlapping.json()["detail"][0]["loc"] == ["body", "effective_from"]
    assert exists.json()["detail"][0]["loc"] == ["body", "version"]
    assert out_of_range.status_code == 422
    listing = (await svc.client.get("/schedules", headers=admin)).json()
    spans = [(s["version"], s["effective_from"], s["effective_to"], s["in_force"])
             for s in listing["schedules"]]  # fmt: skip
    assert spans == [
        ("gd-fpsm-2026-1", "2026-01-01", "2026-03-31", True),
        ("office-2026-2", "2026-04-01", None, False),
    ]


async def test_the_version_in_force_on_the_breach_day_decides_and_recompute_shows_another(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    await add(svc, staff(role="admin"), "s-1", next_version())
    await svc.deliver(
        PropertyRegistered(
            property_id="P1",
            grid_id="WT-G03",
            address="1 Lane",
            landlord_id="LL-P1",
            registered_at=NOW,
        )
    )
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=24))  # Thursday 2 April: the new version is in force
    await found(svc, "F-march", at=NOW + timedelta(days=21))  # found on 30 March
    await found(svc, "F-april", at=NOW + timedelta(days=24))
    await svc.drain()

    decided = [(t, b) for t, b in published(svc) if t in {"RectificationOrdered", "PenaltyIssued"}]
    # March's breach under March's version; April's, a repeat, is fined under April's.
    assert [(t, b["policy_version"]) for t, b in decided] == [
        ("RectificationOrdered", "gd-fpsm-2026-1"), ("PenaltyIssued", "office-2026-2"),
    ]  # fmt: skip
    case_id = decided[0][1]["case_id"]
    as_decided = await svc.client.get(f"/cases/{case_id}/recomputed", headers=staff("WT-G03"))
    as_of_april = await svc.client.get(
        f"/cases/{case_id}/recomputed?as_of=2026-04-02", headers=staff("WT-G03")
    )
    before_any = await svc.client.get(
        f"/cases/{case_id}/recomputed?as_of=2025-12-31", headers=staff("WT-G03")
    )

    (count,) = as_decided.json()["counts"]
    assert (count["policy_version"], count["then_if_not_rectified"]["fine_yuan"]) == (
        "gd-fpsm-2026-1", 200,
    )  # fmt: skip
    (later,) = as_of_april.json()["counts"]
    assert (later["policy_version"], later["then_if_not_rectified"]["fine_yuan"]) == (
        "office-2026-2", 400,
    )  # fmt: skip
    assert "no penalty schedule is in force" in before_any.json()["counts"][0]["error"]


async def test_a_version_past_its_review_date_is_flagged(penalties: Running, staff: Staff) -> None:
    svc = penalties
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(days=500))  # July 2027: past the packaged review date

    (schedule,) = (await svc.client.get("/schedules", headers=staff("WT-G03"))).json()["schedules"]

    assert (schedule["in_force"], schedule["review_overdue"]) == (True, True)
