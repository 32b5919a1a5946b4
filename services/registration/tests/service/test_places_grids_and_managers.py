"""Places: the grid registry, parties, and managers (二房東/物業) who act for a property."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _persons_helpers import derived_ref
from _places_helpers import (
    MANAGER_CODE,
    admin,
    assign_manager,
    bodies,
    post,
    register_company,
    register_grid,
    staff,
)
from _registration_helpers import NOW, Registration, id_number

from common.auth import Principal
from common.db import idempotency_keys, outbox
from common.errors import DomainError, Forbidden
from registration.adapters.persons_tables import person_identity_history
from registration.adapters.places_tables import grids, parties, property_managers
from registration.app.access import authorize_property_access
from registration.app.place_checks import require_grid


@pytest.mark.parametrize("registered_grids", [()])  # it registers its own
async def test_an_administrator_registers_a_grid_and_it_is_published(
    registration: Registration,
) -> None:
    svc = registration

    response = await register_grid(svc, "G1")

    assert response.status_code == 201, response.text
    assert response.json() == {
        "grid_id": "G1",
        "name": "Grid G1",
        "community": "Wentang",
        "grid_worker": "worker-G1",
        "registered_at": NOW.isoformat(),
    }
    await svc.drain()
    (event,) = bodies(svc, "GridRegistered.v1")
    assert (event["grid_id"], event["community"]) == ("G1", "Wentang")
    assert svc.relayed()[-1].key == b"G1"


@pytest.mark.parametrize("registered_grids", [()])  # it registers its own
async def test_only_an_administrator_registers_grids_and_a_grid_once(
    registration: Registration,
) -> None:
    svc = registration
    await register_grid(svc, "G1")

    officer = await register_grid(svc, "G2", headers=staff(svc, "G2"))
    again = await register_grid(svc, "G1")
    bad_code = await register_grid(svc, "G 3")

    assert officer.status_code == 403
    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "grid_id"]
    assert bad_code.status_code == 422
    assert await svc.count(grids) == 1
    assert await svc.count(outbox) == 1
    assert await svc.count(idempotency_keys) == 1


@pytest.mark.parametrize("registered_grids", [()])  # it registers its own
async def test_staff_see_their_own_grids_and_administrators_all(
    registration: Registration,
) -> None:
    svc = registration
    for grid_id, community in [("G1", "Wentang"), ("G2", "Wentang"), ("S1", "Sangyuan")]:
        await register_grid(svc, grid_id, community=community)

    mine = await svc.client.get("/grids", headers=staff(svc, "G2", "S1"))
    everything = await svc.client.get("/grids?community=Wentang", headers=admin(svc))
    one = await svc.client.get("/grids/G2", headers=staff(svc, "G2", role="grid_worker"))
    outside = await svc.client.get("/grids/G1", headers=staff(svc, "G2"))
    missing = await svc.client.get("/grids/G9", headers=admin(svc))
    landlord = await svc.client.get("/grids", headers=svc.landlord())

    assert [g["grid_id"] for g in mine.json()["grids"]] == ["G2", "S1"]
    assert everything.json()["total"] == 2
    assert one.json()["grid_worker"] == "worker-G2"
    assert (outside.status_code, missing.status_code, landlord.status_code) == (403, 404, 403)


async def test_parties_are_organisations_by_credit_code_or_known_persons_by_reference(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    declared = await svc.declare(property_id)
    assert declared.status_code == 201, declared.text
    person_ref = declared.json()["person_ref"]

    company = await post(
        svc,
        "/parties",
        {"kind": "organisation", "credit_code": MANAGER_CODE, "name": "Wentang Property"},
        staff(svc),
    )
    person = await post(svc, "/parties", {"kind": "person", "person_ref": person_ref}, staff(svc))
    again = await post(svc, "/parties", {"kind": "person", "person_ref": person_ref}, staff(svc))
    unknown = await post(
        svc, "/parties", {"kind": "person", "person_ref": "P" + "f" * 23}, staff(svc)
    )
    bad_code = await post(
        svc,
        "/parties",
        {"kind": "organisation", "credit_code": "91441900MA4X0000", "name": "X"},
        staff(svc),
    )

    assert (company.status_code, company.json()["party_id"]) == (201, MANAGER_CODE)
    assert (person.status_code, person.json()["party_id"]) == (201, person_ref)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "person_ref"]
    assert bad_code.status_code == 422
    assert bad_code.json()["detail"][0]["loc"] == ["body", "credit_code"]
    assert await svc.count(parties) == 2


async def test_a_landlord_registers_and_reads_only_itself_as_a_party(
    registration: Registration,
) -> None:
    svc = registration
    body = {"kind": "organisation", "credit_code": MANAGER_CODE, "name": "Wentang Property"}

    other = await post(svc, "/parties", body, svc.landlord("L1"))
    itself = await post(svc, "/parties", body, svc.landlord(MANAGER_CODE))
    read_other = await svc.client.get(f"/parties/{MANAGER_CODE}", headers=svc.landlord("L1"))
    read_self = await svc.client.get(f"/parties/{MANAGER_CODE}", headers=svc.landlord(MANAGER_CODE))

    assert (other.status_code, itself.status_code) == (403, 201)
    assert (read_other.status_code, read_self.status_code) == (403, 200)
    assert read_self.json()["name"] == "Wentang Property"


async def test_the_landlord_mandates_a_manager_who_then_acts_for_the_property(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    manager = await register_company(svc)

    assigned = await assign_manager(svc, property_id, manager)
    as_manager = svc.landlord(MANAGER_CODE)
    listing = await svc.client.get(f"/properties/{property_id}/managers", headers=as_manager)

    assert assigned.status_code == 201, assigned.text
    assert assigned.json()["kind"] == "property_company"
    assert listing.status_code == 200, listing.text
    (row,) = listing.json()["managers"]
    assert (row["party_id"], row["party_kind"], row["removed_at"]) == (
        MANAGER_CODE,
        "organisation",
        None,
    )
    await svc.drain()
    (event,) = bodies(svc, "PropertyManagerAssigned.v1")
    assert (event["property_id"], event["party_id"], event["manager_kind"]) == (
        property_id,
        MANAGER_CODE,
        "property_company",
    )
    assert svc.relayed()[-1].key == property_id.encode()
    # The hook registration's declaration path uses (see the README): the manager acts,
    # another landlord does not.
    async with svc.runtime.sessionmaker() as session:
        manager_principal = Principal(sub="m", role="landlord", party_id=MANAGER_CODE)
        stranger = Principal(sub="s", role="landlord", party_id="L2")
        await authorize_property_access(
            session, manager_principal, property_id=property_id, grid_id="G1", landlord_id="L1"
        )
        with pytest.raises(Forbidden):
            await authorize_property_access(
                session, stranger, property_id=property_id, grid_id="G1", landlord_id="L1"
            )


async def test_removing_a_manager_ends_its_mandate_and_keeps_the_history(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    manager = await register_company(svc)
    await assign_manager(svc, property_id, manager)

    removed = await svc.client.delete(
        f"/properties/{property_id}/managers/{manager}",
        headers={**svc.landlord(), "Idempotency-Key": "rm-1"},
    )
    again = await svc.client.delete(
        f"/properties/{property_id}/managers/{manager}",
        headers={**svc.landlord(), "Idempotency-Key": "rm-2"},
    )
    as_manager = await svc.client.get(
        f"/properties/{property_id}/managers", headers=svc.landlord(MANAGER_CODE)
    )
    history = await svc.client.get(
        f"/properties/{property_id}/managers?include_removed=true", headers=svc.landlord()
    )

    assert removed.status_code == 200, removed.text
    assert again.status_code == 404
    assert as_manager.status_code == 403  # no longer acts for the property
    (row,) = history.json()["managers"]
    assert row["removed_at"] is not None
    await svc.drain()
    assert len(bodies(svc, "PropertyManagerRemoved.v1")) == 1


async def test_managers_are_mandated_by_the_landlord_or_grid_staff_only(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    manager = await register_company(svc)
    before = await svc.count(outbox)

    other_landlord = await assign_manager(svc, property_id, manager, svc.landlord("L2"))
    outside_staff = await assign_manager(svc, property_id, manager, staff(svc, "G2"))
    the_landlord = await assign_manager(svc, property_id, manager, svc.landlord("L1"))
    unknown_party = await assign_manager(svc, property_id, "91441900MA4X99999")
    landlord_itself = await assign_manager(svc, property_id, "L1", staff(svc))
    no_property = await assign_manager(svc, "nope", manager, staff(svc))
    bad_kind = await assign_manager(svc, property_id, manager, kind="janitor")

    assert (other_landlord.status_code, outside_staff.status_code) == (403, 403)
    assert the_landlord.status_code == 201
    assert unknown_party.status_code == 422
    assert unknown_party.json()["detail"][0]["loc"] == ["body", "party_id"]
    assert landlord_itself.status_code == 422
    assert no_property.status_code == 404
    assert bad_kind.status_code == 422
    assert await svc.count(property_managers) == 1
    assert await svc.count(outbox) == before + 1


async def test_the_grid_check_offered_to_property_registration(
    registration: Registration,
) -> None:
    svc = registration
    await register_grid(svc, "G1")

    async with svc.runtime.sessionmaker() as session:
        await require_grid(session, "G1")
        with pytest.raises(DomainError) as err:
            await require_grid(session, "G7")

    assert err.value.field == "grid_id"


async def test_a_manager_declares_a_move_in_and_reads_the_property_another_landlord_cannot(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    manager = await register_company(svc)
    assigned = await assign_manager(svc, property_id, manager)
    assert assigned.status_code == 201, assigned.text

    as_manager = await svc.declare(property_id, headers=svc.landlord(MANAGER_CODE), key="m-1")
    as_stranger = await svc.declare(property_id, headers=svc.landlord("L2"), key="s-1")
    view = await svc.client.get(f"/properties/{property_id}", headers=svc.landlord(MANAGER_CODE))

    assert as_manager.status_code == 201, as_manager.text
    assert as_stranger.status_code == 403, as_stranger.text
    assert view.status_code == 200, view.text
    assert len(view.json()["residences"]) == 1


VILLAGER = id_number("44190019650304201")


def villager(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "person",
        "id_number": VILLAGER,
        "name": "陳大文",
        "phone": "13922223333",
    } | overrides


async def test_a_person_landlord_is_registered_by_identity_number_and_lets_a_property(
    registration: Registration,
) -> None:
    """A villager letting their own house: a person party recorded from their identity."""
    svc = registration
    ref = derived_ref(svc, VILLAGER)

    response = await post(svc, "/parties", villager(), staff(svc, "G1"))
    again = await post(svc, "/parties", villager(), svc.landlord(ref), key="party-again")
    prop = await svc.register_property(svc.landlord(ref), landlord_id=ref)
    declared = await svc.declare(prop.json()["property_id"], headers=svc.landlord(ref))
    await svc.drain()

    assert response.status_code == 201, response.text
    assert response.json() | {"registered_at": None} == {
        "party_id": ref,
        "kind": "person",
        "person_ref": ref,
        "credit_code": None,
        "name": None,
        "registered_at": None,
        "created": True,
    }
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert (prop.status_code, declared.status_code) == (201, 201), (prop.text, declared.text)
    # The person record is made as for a declaration: pseudonymous in public, whole on the
    # restricted topic; the identity number appears in no response or public event.
    assert [b["person_ref"] for b in bodies(svc, "PersonRegistered.v1")].count(ref) == 1
    (record,) = [json.loads(r.body) for r in svc.restricted if ref.encode() == r.key]
    assert (record["id_number"], record["full_name"]) == (VILLAGER, "陳大文")
    assert VILLAGER not in response.text + again.text
    assert all(VILLAGER not in r.body.decode() for r in svc.relayed())


async def test_a_person_registers_only_themself_as_a_landlord(registration: Registration) -> None:
    svc = registration

    other = await post(svc, "/parties", villager(), svc.landlord("P" + "0" * 23))
    itself = await post(
        svc, "/parties", villager(), svc.landlord(derived_ref(svc, VILLAGER)), key="party-self"
    )

    assert (other.status_code, itself.status_code) == (403, 201), other.text
    assert await svc.count(parties) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (villager(id_number="440306199001011235"), "id_number"),
        (villager(name=None), "name"),
        (villager(person_ref="P" + "1" * 23), "person_ref"),
        (villager(credit_code=MANAGER_CODE), "credit_code"),
        (
            {
                "kind": "organisation",
                "credit_code": MANAGER_CODE,
                "name": "X",
                "phone": "13922223333",
            },
            "phone",
        ),
    ],
    ids=["bad-check-character", "no-name", "ref-and-number", "credit-code", "org-with-phone"],
)
async def test_a_person_party_with_bad_fields_is_422_on_the_field_and_writes_nothing(
    registration: Registration, body: dict[str, Any], field: str
) -> None:
    svc = registration

    response = await post(svc, "/parties", body, staff(svc, "G1"))

    assert response.status_code == 422, response.text
    assert field in json.dumps(response.json()["detail"])
    assert await svc.count(parties) == 0
    assert await svc.count(outbox) == 0


async def test_registering_a_known_person_as_a_party_does_not_change_their_record(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    declared = await svc.declare(property_id)  # 王小明, in grid G1
    assert declared.status_code == 201, declared.text
    versions = await svc.count(person_identity_history)
    outside = svc.auth("officer", scopes=("registration:write",), grids=("G9",))

    response = await post(
        svc,
        "/parties",
        {"kind": "person", "id_number": id_number(), "name": "Someone Else"},
        outside,
    )

    assert response.status_code in (200, 201), response.text
    assert response.json()["party_id"] == declared.json()["person_ref"]
    assert await svc.count(person_identity_history) == versions
    await svc.drain()
    assert svc.relayed_of("PersonIdentityChanged", "PersonCorrected") == []
    assert [r.headers["ce_type"] for r in svc.restricted].count(
        "registration.PersonIdentityRecorded.v1"
    ) == 1
