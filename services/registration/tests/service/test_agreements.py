"""Responsibility agreements (責任書): signing, renewal, revocation, expiry, and who has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _employment_helpers import CREDIT_CODE, OTHER_CREDIT_CODE, new_employer
from _places_helpers import (
    OFFICE,
    assign_manager,
    bodies,
    post,
    register_company,
    sign,
    signed,
    staff,
    worker,
)
from _registration_helpers import Registration

from common.clock import FakeClock
from common.db import idempotency_keys, outbox, timers
from registration.adapters.agreements_tables import agreements


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    # The tests fire timers themselves (one pass of the worker), not the background loop.
    return {"run_timers": False}


async def without(svc: Registration, what: str = "properties", grid: str = "G1") -> list[str]:
    response = await svc.client.get(f"/{what}/without-agreement?grid_id={grid}", headers=staff(svc))
    assert response.status_code == 200, response.text
    key = "property_id" if what == "properties" else "employer_id"
    return [row[key] for row in response.json()[what]]


async def expiry_timers(svc: Registration) -> dict[str, tuple[datetime, bool]]:
    """agreement id -> (due_at, done)"""
    return {
        r.key: (r.due_at.replace(tzinfo=UTC), r.done_at is not None)
        for r in await svc.rows(timers)
        if r.kind == "agreement-expiry"
    }


async def test_a_landlord_agreement_covers_the_property_and_arms_its_expiry(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    assert await without(svc) == [property_id]

    agreement = await signed(svc, property_id=property_id)

    assert (agreement["kind"], agreement["status"], agreement["in_force"]) == (
        "landlord",
        "active",
        True,
    )
    assert agreement["signatory_party_id"] == "L1"  # the landlord, by default
    assert agreement["expires_at"] == "2027-02-28T16:00:00+00:00"  # 1 March 00:00 China time
    assert await without(svc) == []
    assert await expiry_timers(svc) == {
        agreement["agreement_id"]: (datetime(2027, 2, 28, 16, 0, tzinfo=UTC), False)
    }
    await svc.drain()
    (event,) = bodies(svc, "AgreementSigned.v1")
    assert (event["agreement_id"], event["property_id"], event["counterpart_office"]) == (
        agreement["agreement_id"],
        property_id,
        OFFICE,
    )
    assert svc.relayed()[-1].key == property_id.encode()
    listing = await svc.client.get(f"/agreements?property_id={property_id}", headers=svc.landlord())
    assert [a["agreement_id"] for a in listing.json()["agreements"]] == [agreement["agreement_id"]]


async def test_renewal_supersedes_the_previous_agreement_and_moves_the_timer(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    first = await signed(svc, property_id=property_id)

    response = await post(
        svc,
        f"/agreements/{first['agreement_id']}/renew",
        {"signed_on": "2026-03-04", "valid_from": "2026-03-04", "valid_until": "2029-03-03"},
        staff(svc),
    )

    assert response.status_code == 201, response.text
    renewal = response.json()
    assert (renewal["supersedes"], renewal["previous_status"]) == (
        first["agreement_id"],
        "superseded",
    )
    assert renewal["counterpart_office"] == OFFICE  # kept from the renewed one
    listing = await svc.client.get(f"/agreements?property_id={property_id}", headers=staff(svc))
    by_id = {a["agreement_id"]: a for a in listing.json()["agreements"]}
    assert by_id[first["agreement_id"]]["status"] == "superseded"
    assert by_id[first["agreement_id"]]["superseded_by"] == renewal["agreement_id"]
    assert by_id[renewal["agreement_id"]]["in_force"] is True
    assert await without(svc) == []
    assert await expiry_timers(svc) == {
        first["agreement_id"]: (datetime(2027, 2, 28, 16, 0, tzinfo=UTC), True),  # cancelled
        renewal["agreement_id"]: (datetime(2029, 3, 3, 16, 0, tzinfo=UTC), False),
    }
    await svc.drain()
    (event,) = bodies(svc, "AgreementRenewed.v1")
    assert (event["agreement_id"], event["previous_agreement_id"]) == (
        renewal["agreement_id"],
        first["agreement_id"],
    )


async def test_a_second_agreement_for_the_same_subject_is_refused_renew_instead(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    await signed(svc, property_id=property_id)

    response = await sign(svc, property_id=property_id)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "property_id"]
    assert "renew" in response.json()["detail"][0]["msg"]
    assert await svc.count(agreements) == 1


async def test_revoking_leaves_the_property_without_an_agreement(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    agreement = await signed(svc, property_id=property_id)

    revoked = await post(
        svc,
        f"/agreements/{agreement['agreement_id']}/revoke",
        {"reason": "landlord sold the building"},
        staff(svc),
    )
    renew_revoked = await post(
        svc,
        f"/agreements/{agreement['agreement_id']}/renew",
        {"signed_on": "2026-03-04", "valid_from": "2026-03-04", "valid_until": "2028-03-03"},
        staff(svc),
    )

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert renew_revoked.status_code == 422
    rows = await without(svc)
    assert rows == [property_id]
    listing = await svc.client.get("/properties/without-agreement?grid_id=G1", headers=staff(svc))
    assert listing.json()["properties"][0]["last_agreement"] == {
        "status": "revoked",
        "valid_until": "2027-02-28",
    }
    assert (await expiry_timers(svc))[agreement["agreement_id"]][1] is True  # cancelled
    by_status = await svc.client.get(
        f"/agreements?property_id={property_id}&status=revoked", headers=staff(svc)
    )
    (row,) = by_status.json()["agreements"]
    assert (row["status"], row["revoked_reason"]) == ("revoked", "landlord sold the building")
    await svc.drain()
    (event,) = bodies(svc, "AgreementRevoked.v1")
    assert "sold" not in str(event)  # the free-text reason stays in the database
    # A new agreement may be signed now.
    assert (await sign(svc, property_id=property_id)).status_code == 201


async def test_the_expiry_timer_lapses_the_agreement_at_the_end_of_its_last_day(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    property_id = await svc.new_property()
    agreement = await signed(svc, property_id=property_id, valid_until="2026-03-31")

    clock.set(datetime(2026, 3, 31, 15, 59, tzinfo=UTC))  # 23:59 China time, last day
    assert await worker(svc, clock).fire_due() == 0
    assert await without(svc) == []
    clock.set(datetime(2026, 3, 31, 16, 0, tzinfo=UTC))
    assert await worker(svc, clock).fire_due() == 1

    listing = await svc.client.get(f"/agreements/{agreement['agreement_id']}", headers=staff(svc))
    assert (listing.json()["status"], listing.json()["in_force"]) == ("expired", False)
    assert await without(svc) == [property_id]
    await svc.drain()
    (event,) = bodies(svc, "AgreementExpired.v1")
    assert (event["agreement_id"], event["valid_until"], event["property_id"]) == (
        agreement["agreement_id"],
        "2026-03-31",
        property_id,
    )
    assert await worker(svc, clock).fire_due() == 0  # fired once


async def test_an_expired_agreement_is_renewed_and_stays_expired_in_the_history(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    property_id = await svc.new_property()
    agreement = await signed(svc, property_id=property_id, valid_until="2026-03-31")
    clock.set(datetime(2026, 4, 2, 2, 0, tzinfo=UTC))
    await worker(svc, clock).fire_due()

    renewed = await post(
        svc,
        f"/agreements/{agreement['agreement_id']}/renew",
        {"signed_on": "2026-04-02", "valid_from": "2026-04-02", "valid_until": "2027-04-01"},
        staff(svc),
    )

    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["previous_status"] == "expired"
    assert await without(svc) == []


async def test_tenant_agreements_are_signed_by_residents_one_each(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    declared = await svc.declare(property_id)
    assert declared.status_code == 201, declared.text
    tenant = declared.json()["person_ref"]

    first = await sign(svc, kind="tenant", property_id=property_id, signatory_party_id=tenant)
    stranger = await sign(
        svc, kind="tenant", property_id=property_id, signatory_party_id="P" + "e" * 23
    )
    unnamed = await sign(svc, kind="tenant", property_id=property_id)
    landlord = await sign(svc, property_id=property_id)

    assert first.status_code == 201, first.text
    assert (stranger.status_code, unnamed.status_code) == (422, 422)
    assert stranger.json()["detail"][0]["loc"] == ["body", "signatory_party_id"]
    assert landlord.status_code == 201  # the tenant's agreement does not cover the building
    assert await svc.count(agreements) == 2


async def test_a_manager_may_sign_the_landlord_agreement_and_read_it(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    manager = await register_company(svc)
    await assign_manager(svc, property_id, manager)

    by_manager = await sign(svc, property_id=property_id, signatory_party_id=manager)
    read = await svc.client.get(
        f"/agreements?property_id={property_id}", headers=svc.landlord(manager)
    )
    stranger = await svc.client.get(
        f"/agreements?property_id={property_id}", headers=svc.landlord("L2")
    )

    assert by_manager.status_code == 201, by_manager.text
    assert read.status_code == 200 and read.json()["total"] == 1
    assert stranger.status_code == 403


async def test_employer_agreements_and_the_employers_without_one(
    registration: Registration,
) -> None:
    svc = registration
    covered = await new_employer(svc)
    uncovered = await new_employer(svc, key="e2", credit_code=OTHER_CREDIT_CODE)
    assert sorted(await without(svc, "employers")) == sorted([covered, uncovered])

    agreement = await signed(svc, kind="employer", employer_id=covered)
    wrong_signatory = await sign(
        svc, kind="employer", employer_id=uncovered, signatory_party_id=CREDIT_CODE
    )

    assert agreement["signatory_party_id"] == CREDIT_CODE
    assert wrong_signatory.status_code == 422
    assert await without(svc, "employers") == [uncovered]
    own = await svc.client.get(
        f"/agreements?employer_id={covered}", headers=svc.auth("employer", party_id=CREDIT_CODE)
    )
    other = await svc.client.get(
        f"/agreements?employer_id={covered}",
        headers=svc.auth("employer", party_id=OTHER_CREDIT_CODE),
    )
    assert (own.status_code, other.status_code) == (200, 403)
    await svc.drain()
    (event,) = bodies(svc, "AgreementSigned.v1")
    assert (event["employer_id"], event["property_id"]) == (covered, None)
    assert svc.relayed()[-1].key == covered.encode()


async def test_the_lists_without_agreement_are_paginated_and_for_the_grids_staff(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    ids = []
    for i in range(5):  # oldest registration first
        ids.append(await svc.new_property(key=f"p{i}"))
        clock.advance(timedelta(minutes=1))
    await svc.new_property(key="other-grid", grid_id="G2")
    await signed(svc, property_id=ids[2])

    page1 = await svc.client.get(
        "/properties/without-agreement?grid_id=G1&limit=2", headers=staff(svc)
    )
    page2 = await svc.client.get(
        "/properties/without-agreement?grid_id=G1&limit=2&offset=2", headers=staff(svc)
    )
    outside = await svc.client.get(
        "/properties/without-agreement?grid_id=G2", headers=staff(svc, "G1")
    )
    landlord = await svc.client.get(
        "/properties/without-agreement?grid_id=G1", headers=svc.landlord()
    )

    assert page1.json()["total"] == 4
    got = [p["property_id"] for p in page1.json()["properties"] + page2.json()["properties"]]
    assert got == [ids[0], ids[1], ids[3], ids[4]]
    assert page1.json()["properties"][0]["last_agreement"] is None
    assert (outside.status_code, landlord.status_code) == (403, 403)


@pytest.mark.parametrize(
    ("caller", "overrides", "status", "loc"),
    [
        ("landlord", {}, 403, None),
        ("other-grid", {}, 403, None),
        ("officer", {"kind": "lease"}, 422, ["body", "kind"]),
        ("officer", {"employer_id": "e-1"}, 422, ["body", "employer_id"]),
        ("officer", {"property_id": None}, 422, ["body", "property_id"]),
        ("officer", {"kind": "employer"}, 422, ["body", "employer_id"]),
        ("officer", {"signed_on": "2026-03-05"}, 422, ["body", "signed_on"]),
        ("officer", {"valid_until": "2026-02-01"}, 422, ["body", "valid_until"]),
        ("officer", {"valid_until": "2030-01-01"}, 422, ["body", "valid_until"]),
        ("officer", {"counterpart_office": ""}, 422, ["body", "counterpart_office"]),
        ("officer", {"signatory_party_id": "L2"}, 422, ["body", "signatory_party_id"]),
        ("officer", {"note": "x"}, 422, ["body", "note"]),
    ],
    ids=[
        "landlord-cannot-record",
        "staff-of-another-grid",
        "unknown-kind",
        "landlord-kind-with-employer",
        "no-property",
        "employer-kind-without-employer",
        "signed-tomorrow",
        "ended-already",
        "too-long",
        "no-office",
        "signatory-not-landlord-or-manager",
        "extra-field",
    ],
)
async def test_refused_agreements_write_nothing(
    registration: Registration,
    caller: str,
    overrides: dict[str, Any],
    status: int,
    loc: list[str] | None,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    headers = {
        "landlord": svc.landlord(),
        "other-grid": staff(svc, "G2"),
        "officer": staff(svc),
    }[caller]
    before = (await svc.count(outbox), await svc.count(timers), await svc.count(idempotency_keys))

    response = await sign(svc, headers, **{"property_id": property_id, **overrides})

    assert response.status_code == status, response.text
    if loc is not None:
        assert loc in [e["loc"] for e in response.json()["detail"]]
    assert await svc.count(agreements) == 0
    after = (await svc.count(outbox), await svc.count(timers), await svc.count(idempotency_keys))
    assert after == before


async def test_listing_needs_exactly_one_subject_and_unknown_ones_are_404(
    registration: Registration,
) -> None:
    svc = registration

    neither = await svc.client.get("/agreements", headers=staff(svc))
    both = await svc.client.get("/agreements?property_id=a&employer_id=b", headers=staff(svc))
    unknown = await svc.client.get("/agreements?property_id=nope", headers=staff(svc))
    missing = await svc.client.get("/agreements/nope", headers=staff(svc))

    assert (neither.status_code, both.status_code) == (422, 422)
    assert (unknown.status_code, missing.status_code) == (404, 404)


async def test_a_renewal_command_replayed_with_its_key_renews_once(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    first = await signed(svc, property_id=property_id)
    body = {"signed_on": "2026-03-04", "valid_from": "2026-03-04", "valid_until": "2028-03-03"}

    one = await post(svc, f"/agreements/{first['agreement_id']}/renew", body, staff(svc), "k")
    two = await post(svc, f"/agreements/{first['agreement_id']}/renew", body, staff(svc), "k")

    assert (one.status_code, two.status_code) == (201, 201)
    assert two.headers["Idempotent-Replayed"] == "true"
    assert one.json() == two.json()
    assert await svc.count(agreements) == 2


async def test_expiry_of_a_renewed_agreement_fires_nothing(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    property_id = await svc.new_property()
    first = await signed(svc, property_id=property_id, valid_until="2026-03-31")
    await post(
        svc,
        f"/agreements/{first['agreement_id']}/renew",
        {"signed_on": "2026-03-04", "valid_from": "2026-03-04", "valid_until": "2027-03-31"},
        staff(svc),
    )

    clock.advance(timedelta(days=40))

    assert await worker(svc, clock).fire_due() == 0
    await svc.drain()
    assert bodies(svc, "AgreementExpired.v1") == []
