"""The demo district generator, at a tiny scale, against the service in-process.

Scale 0.002 of the office: 4 buildings (one run by a sublessor) of 3 landlords (2 villagers
registered at the counter, 1 individual business), 136 move-in declarations by 125
persons, 12 employers, 16 agreements. Seed 1 gives every kind of event at least once
(moves declared by the person, renewals, revocations, leaves of both kinds).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from common.auth import mint_token
from common.testing import Running
from seed.registration.district import DECLARATIONS, generate

JWT_SECRET = "seed-test-jwt-secret-0123456789abcdef"  # the conftest's


def admin(_: Running) -> dict[str, str]:
    token = mint_token(
        JWT_SECRET, sub="admin-x", role="admin", scopes=["registration:write", "registration:read"]
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.timeout(300)
async def test_the_district_generator_creates_what_the_figures_then_count(
    registration: Running,
) -> None:
    svc = registration
    lines: list[str] = []

    stats, ok = await generate(
        "http://registration.test",
        JWT_SECRET,
        scale=0.002,
        seed=1,
        concurrency=8,
        client=svc.client,
        today=date(2026, 3, 4),
        log=lines.append,
    )
    await svc.drain()

    report = "\n".join(lines)
    assert ok, report
    assert stats.error_count == 0, report
    c = stats.created
    move_ins = {d: c[f"move_ins.{d}"] for d in ("landlord", "manager", "person", "officer")}
    move_outs = sum(c[f"move_outs.{d}"] for d in ("landlord", "manager", "officer"))
    hires, leaves = c["hires.roster"] + c["hires.single"], c["leaves.roster"] + c["leaves.single"]
    # Every kind of event happened: moves (some declared by the person), move-outs,
    # declarations by the sublessor, hires and leaves by roster and one by one.
    assert sum(move_ins.values()) == round(DECLARATIONS * 0.002) == 136
    assert all(move_ins.values()), move_ins
    assert c["persons"] == 125
    assert c["moves_elsewhere"] == c["residences_ended_by_moves"] == 136 - 125
    assert move_outs > 0
    assert c["managers.party.person"] == c["managers.sublessor"] == 1
    landlords = {k: c[f"landlords.{k}"] for k in ("person", "individual_business", "company")}
    assert landlords == {"person": 2, "individual_business": 1, "company": 0}
    assert all(c[k] for k in ("hires.roster", "hires.single", "leaves.roster", "leaves.single"))
    assert c["agreements.renewed.landlord"] + c["agreements.renewed.employer"] > 0
    assert c["agreements.revoked.tenant"] > 0
    # The summary reports them per kind, and the request rate.
    for said in (
        "buildings 4 with 84 rooms",
        "landlords 3: persons 2 (66.7%), organisations 1 (individual businesses 1, companies 0)",
        "managers: sublessors 1",
        f"persons 125; move-ins 136: landlord {move_ins['landlord']}",
        f"moves elsewhere 11 (previous residence ended 11); move-outs {move_outs}:",
        f"hires {hires} ",
        f"leaves {leaves} ",
        " req/s; 0 failed, error share 0.00%",
    ):
        assert said in report, said

    # The figures count what is current: a move elsewhere ended the previous residence,
    # a move-out ended it, a leave ended the employment, a renewal replaced its agreement.
    response = await svc.client.get(
        "/figures/community?community=Wentang&months=6&until=2026-03", headers=admin(svc)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    total = body["total"]
    assert len(body["grids"]) == c["grids"] == 2
    assert (total["rental_properties"], total["rooms"]) == (c["buildings"], c["rooms"]) == (4, 84)
    assert total["active_residences"] == c["persons"] - move_outs
    assert total["persons_with_active_residence"] == total["active_residences"]
    assert total["employers"] == c["employers"] == 12
    assert total["active_employments"] == hires - leaves
    in_force = total["agreements_in_force"]
    for kind in ("landlord", "tenant", "employer"):
        assert in_force[kind] == c[f"agreements.signed.{kind}"] - c[f"agreements.revoked.{kind}"]
    assert total["properties_without_agreement"] == 4 - in_force["landlord"]
    assert total["employers_without_agreement"] == 12 - in_force["employer"]
    # Every move-in, moves included, is a declaration of the month the office had it in:
    # the history brought over in its own months, today's in this one; officers' are not
    # self-declarations. The sublessor moved in before the period: counted before it.
    declared, self_declared = Counter[str](), Counter[str]()
    for (month, declarer), n in stats.declared.items():
        declared[month] += n
        self_declared[month] += n if declarer != "officer" else 0
    assert declared.total() == 136
    months = body["months"]
    assert [(m["declarations"], m["self_declared"]) for m in months] == [
        (declared[m["month"]], self_declared[m["month"]]) for m in months
    ]
    assert all(m["declarations"] for m in months)  # every month of the period has some
    before = sum(n for month, n in declared.items() if month < months[0]["month"])
    assert before >= c["managers.sublessor"]
    assert body["period"]["declarations"] == 136 - before
    assert 0 < c["move_ins.migrated"] < 136  # the most recent are declared today
    # Migrated declarations are on time by the day they were made: most of them.
    on_time = sum(m["on_time"] for m in body["months"])
    assert 0.8 * body["period"]["declarations"] <= on_time < body["period"]["declarations"]

    # Through the properties: each current resident once, in one place; the sublessor is a
    # person party managing its building; villagers (person parties) let buildings.
    residents: Counter[str] = Counter()
    managers = []
    landlord_ids: set[str] = set()
    for property_id in stats.property_ids:
        prop = await svc.client.get(f"/properties/{property_id}", headers=admin(svc))
        assert prop.status_code == 200, prop.text
        residents.update(r["person_ref"] for r in prop.json()["residences"])
        landlord_ids.add(prop.json()["landlord_id"])
        listed = await svc.client.get(f"/properties/{property_id}/managers", headers=admin(svc))
        assert listed.status_code == 200, listed.text
        managers += listed.json()["managers"]
    assert sum(residents.values()) == total["active_residences"]
    assert set(residents.values()) == {1}
    assert [(m["kind"], m["party_kind"]) for m in managers] == [("sublessor", "person")]
    party = await svc.client.get(f"/parties/{managers[0]['party_id']}", headers=admin(svc))
    assert party.status_code == 200, party.text
    assert party.json()["kind"] == "person"
    assert party.json()["person_ref"] in residents  # the sublessor lives in the building
    # Villagers let buildings as person parties (the ref the office's registration derived
    # from their identity number); the individual business as an organisation.
    kinds: Counter[str] = Counter()
    for landlord_id in landlord_ids:
        landlord = await svc.client.get(f"/parties/{landlord_id}", headers=admin(svc))
        assert landlord.status_code == 200, landlord.text
        kinds[landlord.json()["kind"]] += 1
        if landlord.json()["kind"] == "person":
            assert landlord_id.startswith("P")
            assert landlord.json()["person_ref"] == landlord_id
    assert kinds == {"person": 2, "organisation": 1}
