"""Officers' and parties' side of cases: a case opened by hand, decisions within the
schedule, appeals recorded as new facts, access by grid and party, figures and the audit
of reads (issue 12, items 1, 5 and 6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from common.testing import Running
from penalties.adapters.cases_tables import access_log, appeals
from penalties.upstream.registration import (
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
)

NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday (as conftest)

Staff = Callable[..., dict[str, str]]
Party = Callable[..., dict[str, str]]
Published = Callable[..., list[tuple[str, dict[str, Any]]]]


async def a_case(svc: Running, property_id: str = "P1", grid: str = "WT-G03") -> str:
    """An undeclared occupant's case (ordered to rectify); returns its id."""
    await svc.deliver(
        PropertyRegistered(
            property_id=property_id,
            grid_id=grid,
            address=f"{property_id} Xinwei Road",
            landlord_id=f"LL-{property_id}",
            registered_at=NOW - timedelta(days=300),
        )
    )
    await svc.deliver(
        OccupantFindingSettled(
            finding_id=f"F-{property_id}",
            property_id=property_id,
            grid_id=grid,
            landlord_id=f"LL-{property_id}",
            room_no="101",
            outcome=FindingOutcome.REGISTERED,
            found_at=NOW,
            visit_id=f"V-{property_id}",
        )
    )
    await svc.drain()
    listed = await svc.client.get(f"/cases?property_id={property_id}", headers=admin())
    return str(listed.json()["cases"][0]["case_id"])


def admin() -> dict[str, str]:
    from common.auth import mint_token

    token = mint_token("penalties-test-jwt-secret-0123456789", sub="admin-1", role="admin",
                       scopes=["penalties:read", "penalties:write"])  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


async def post(
    svc: Running, path: str, headers: dict[str, str], key: str, **body: object
) -> httpx.Response:
    return await svc.client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


async def test_an_officer_opens_a_case_by_hand_and_fines_within_the_schedules_range(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    await svc.deliver(
        PropertyRegistered(
            property_id="P2",
            grid_id="WT-G03",
            address="2 Lane",
            landlord_id="LL-P2",
            registered_at=NOW,
        )
    )
    officer = staff("WT-G03")
    opened = await post(svc, "/cases", officer, "open-1", breach="undeclared_occupant",
                        party_kind="landlord", property_id="P2", occurred_on="2026-03-08",
                        note="two tenants met on a night patrol")  # fmt: skip
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    again = await post(svc, "/cases", officer, "open-1", breach="undeclared_occupant",
                       party_kind="landlord", property_id="P2", occurred_on="2026-03-08",
                       note="two tenants met on a night patrol")  # fmt: skip
    assert again.json() == opened.json()  # the idempotency key: the same answer, one case

    too_much = await post(svc, f"/cases/{case_id}/decisions", officer, "d-1", count_no=1,
                          action="fine", amount_yuan=5000, reason="ignored the order")  # fmt: skip
    not_in_rule = await post(svc, f"/cases/{case_id}/decisions", officer, "d-2", count_no=1,
                             action="warning", reason="first time")  # fmt: skip
    fined = await post(svc, f"/cases/{case_id}/decisions", officer, "d-3", count_no=1,
                       action="fine", amount_yuan=300, reason="refused to declare")  # fmt: skip

    assert too_much.status_code == 422
    assert too_much.json()["detail"][0]["loc"] == ["body", "amount_yuan"]
    assert not_in_rule.status_code == 422
    assert not_in_rule.json()["detail"][0]["loc"] == ["body", "action"]
    assert fined.status_code == 201, fined.text
    assert fined.json()["superseded"] is not None  # the automatic order it replaced
    settled = await post(svc, f"/cases/{case_id}/decisions", officer, "d-4", count_no=1,
                         action="fine", amount_yuan=300, reason="twice")  # fmt: skip
    assert settled.status_code == 409
    await svc.drain()
    types = [t for t, _ in published(svc)]
    assert types[-2:] == ["PenaltyIssued", "CaseClosed"]
    assert types.count("CaseOpened") == 1
    assert dict(published(svc))["CaseOpened"]["origin"] == "officer"


async def test_bad_commands_get_the_field_and_change_nothing(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    officer = staff("WT-G03")
    unknown_property = await post(svc, "/cases", officer, "k1", breach="undeclared_occupant",
                                  party_kind="landlord", property_id="NOPE",
                                  occurred_on="2026-03-08")  # fmt: skip
    no_rule = await post(svc, "/cases", officer, "k2", breach="littering",
                         party_kind="landlord", property_id="NOPE",
                         occurred_on="2026-03-08")  # fmt: skip
    future = await post(svc, "/cases", officer, "k3", breach="undeclared_occupant",
                        party_kind="landlord", property_id="P1",
                        occurred_on="2026-04-01")  # fmt: skip
    employer_on_landlord = await post(svc, "/cases", officer, "k4",
                                      breach="undeclared_occupant", party_kind="landlord",
                                      employer_id="E1", occurred_on="2026-03-08")  # fmt: skip

    assert unknown_property.json()["detail"][0]["loc"] == ["body", "property_id"]
    assert future.json()["detail"][0]["loc"] == ["body", "occurred_on"]
    assert employer_on_landlord.json()["detail"][0]["loc"] == ["body", "property_id"]
    assert no_rule.status_code == 422
    for response in (unknown_property, no_rule, future, employer_on_landlord):
        assert response.status_code == 422, response.text
    await svc.drain()
    assert published(svc) == []


async def test_an_appeal_upheld_reverses_the_decision_as_a_new_fact(
    penalties: Running, staff: Staff, party: Party, published: Published
) -> None:
    svc = penalties
    case_id = await a_case(svc)
    landlord = party("LL-P1")
    case = (await svc.client.get(f"/cases/{case_id}", headers=landlord)).json()
    (decision,) = case["decisions"]
    assert decision["decided_by"] == "office"  # a party does not see officers' ids

    lodged = await post(svc, f"/cases/{case_id}/appeals", landlord, "a-1",
                        decision_id=decision["decision_id"],
                        grounds="The tenant moved in that morning; declared that day")  # fmt: skip
    assert lodged.status_code == 201, lodged.text
    twice = await post(svc, f"/cases/{case_id}/appeals", landlord, "a-2",
                       decision_id=decision["decision_id"], grounds="again")  # fmt: skip
    assert twice.status_code == 409
    appeal_id = lodged.json()["appeal_id"]
    by_landlord = await post(svc, f"/appeals/{appeal_id}/ruling", landlord, "r-0",
                             upheld=True, reason="mine")  # fmt: skip
    assert by_landlord.status_code in (403, 404)
    ruled = await post(svc, f"/appeals/{appeal_id}/ruling", staff("WT-G03"), "r-1",
                       upheld=True, reason="Declared within the day")  # fmt: skip
    assert ruled.status_code == 200, ruled.text
    await svc.drain()

    types = [t for t, _ in published(svc)]
    assert types[-3:] == ["AppealLodged", "AppealDecided", "CaseClosed"]
    events = dict(published(svc))
    assert events["CaseClosed"]["outcome"] == "reversed"
    assert "grounds" not in events["AppealLodged"]  # the grounds are the party's, kept here
    after = (await svc.client.get(f"/cases/{case_id}", headers=staff("WT-G03"))).json()
    (kept,) = after["decisions"]  # the decision's row stays, marked reversed
    assert kept["reversed_by"] == appeal_id
    assert after["counts"][0]["status"] == "reversed"
    assert after["appeals"][0]["grounds"].startswith("The tenant moved in")
    async with svc.runtime.sessionmaker() as session:
        (stored,) = (await session.execute(select(appeals.c.grounds))).scalars()
    assert b"tenant" not in stored  # encrypted at rest


async def test_cases_are_seen_by_their_grid_and_their_party_only(
    penalties: Running, staff: Staff, party: Party
) -> None:
    svc = penalties
    mine = await a_case(svc, "P1", "WT-G03")
    other = await a_case(svc, "P2", "WT-G07")

    own = (await svc.client.get("/cases", headers=party("LL-P1"))).json()
    grid = (await svc.client.get("/cases", headers=staff("WT-G03"))).json()
    foreign = await svc.client.get(f"/cases/{other}", headers=staff("WT-G03"))
    not_theirs = await svc.client.get(f"/cases/{other}", headers=party("LL-P1"))
    outside = await svc.client.get("/cases?grid_id=WT-G07", headers=staff("WT-G03"))
    orders_by_party = await svc.client.get("/orders", headers=party("LL-P1"))
    no_token = await svc.client.get("/cases")

    assert [c["case_id"] for c in own["cases"]] == [mine]
    assert [c["case_id"] for c in grid["cases"]] == [mine]
    assert (foreign.status_code, not_theirs.status_code) == (404, 404)
    assert outside.status_code == 403
    assert orders_by_party.status_code == 403
    assert no_token.status_code == 401
    async with svc.runtime.sessionmaker() as session:
        reads = (await session.execute(select(access_log.c.action, access_log.c.case_id))).all()
    assert ("read", other) not in reads  # a refused read reads nothing


async def test_reads_of_a_case_are_audited(penalties: Running, staff: Staff) -> None:
    svc = penalties
    case_id = await a_case(svc)

    await svc.client.get(f"/cases/{case_id}", headers=staff("WT-G03", sub="officer-0042"))

    async with svc.runtime.sessionmaker() as session:
        rows = (await session.execute(select(access_log))).all()
    assert [(r.principal, r.action, r.case_id) for r in rows] == [("officer-0042", "read", case_id)]


async def test_the_months_figures_count_orders_fines_and_compliance(
    penalties: Running, staff: Staff
) -> None:
    svc = penalties
    await a_case(svc, "P1")
    await a_case(svc, "P2")
    officer = staff("WT-G03")
    orders = (await svc.client.get("/orders", headers=officer)).json()["orders"]
    verified = await post(svc, f"/orders/{orders[0]['order_id']}/checks", officer, "c-1",
                          rectified=True)  # fmt: skip
    assert verified.json()["result"] == "verified"
    again = await post(svc, f"/orders/{orders[0]['order_id']}/checks", officer, "c-2",
                       rectified=True)  # fmt: skip
    assert again.status_code == 409

    figures = (await svc.client.get("/figures?month=2026-03", headers=officer)).json()

    assert figures["orders"] == 2
    assert figures["ordered_to_rectify"] == 2
    assert figures["fines"] == 0
    assert figures["orders_due"] == 1  # one verified; the other not yet due
    assert figures["orders_verified_on_time"] == 1
    assert figures["compliance_rate"] == 1.0
    bad_month = await svc.client.get("/figures?month=2026-13", headers=officer)
    assert bad_month.status_code == 422
