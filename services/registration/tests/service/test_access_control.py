"""Who may do what: tokens, roles, landlords' own buildings, grids, personal data."""

from __future__ import annotations

import pytest
from _registration_helpers import NOW, Registration, id_number

from common.db import idempotency_keys, outbox
from registration.adapters.persons_tables import persons, pii_access_log
from registration.adapters.residences_tables import properties, residences


async def _nothing_declared(svc: Registration) -> bool:
    return (
        await svc.count(persons) == 0
        and await svc.count(residences) == 0
        and await svc.count(outbox) == 1  # the property's registration only
        and await svc.count(idempotency_keys) == 1
    )


async def test_landlord_cannot_declare_on_another_landlords_property(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()  # landlord L1's

    response = await svc.declare(property_id, svc.landlord("L2"))

    assert response.status_code == 403
    assert "own properties" in response.json()["detail"]
    assert await _nothing_declared(svc)


async def test_landlord_cannot_register_a_property_for_another_landlord(
    registration: Registration,
) -> None:
    svc = registration

    response = await svc.register_property(svc.landlord("L2"), landlord_id="L1")

    assert response.status_code == 403
    assert await svc.count(properties) == 0
    assert await svc.count(outbox) == 0


async def test_grid_worker_outside_their_grid_is_forbidden(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property(grid_id="G1")
    worker = svc.auth("grid_worker", grids=("G2",))

    declare = await svc.declare(property_id, worker)
    register = await svc.register_property(worker, key="other", grid_id="G1")
    view = await svc.client.get(f"/properties/{property_id}", headers=worker)

    assert (declare.status_code, register.status_code, view.status_code) == (403, 403, 403)
    assert "outside the caller's grids" in declare.json()["detail"]
    assert await svc.count(properties) == 1
    assert await _nothing_declared(svc)


async def test_grid_worker_of_the_grid_may_declare(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property(grid_id="G1")

    response = await svc.declare(property_id, svc.auth("grid_worker", grids=("G1",)))

    assert response.status_code == 201
    assert await svc.count(residences) == 1


async def test_request_without_token_is_401_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration

    response = await svc.client.post(
        "/properties",
        json={
            "address": "1 Road",
            "grid_id": "G1",
            "landlord_id": "L1",
            "rooms": [{"room_no": "1", "capacity": 1}],
        },
        headers={"Idempotency-Key": "k"},
    )
    view = await svc.client.get("/figures/grids/G1?month=2026-03")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert view.status_code == 401
    assert await svc.count(properties) == 0


async def test_token_signed_with_another_secret_is_401(registration: Registration) -> None:
    from common.auth import mint_token

    token = mint_token("not-the-service-secret-0123456789", sub="x", role="admin", scopes=[])

    response = await registration.client.get(
        "/figures/grids/G1?month=2026-03", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


async def test_token_without_write_scope_cannot_register(registration: Registration) -> None:
    svc = registration
    reader = svc.auth("landlord", scopes=("registration:read",), party_id="L1")

    response = await svc.register_property(reader)

    assert response.status_code == 403
    assert "registration:write" in response.json()["detail"]
    assert await svc.count(properties) == 0


async def test_figures_are_for_office_staff_of_the_grid(registration: Registration) -> None:
    svc = registration
    url = "/figures/grids/G1?month=2026-03"

    landlord = await svc.client.get(url, headers=svc.auth("landlord", party_id="L1"))
    other_grid = await svc.client.get(url, headers=svc.officer(grids=("G2",)))
    admin = await svc.client.get(url, headers=svc.auth("admin", scopes=("registration:read",)))

    assert (landlord.status_code, other_grid.status_code, admin.status_code) == (403, 403, 200)


async def _declared_person(svc: Registration) -> str:
    property_id = await svc.new_property()
    response = await svc.declare(property_id)
    assert response.status_code == 201
    return str(response.json()["person_ref"])


async def test_officer_without_pii_read_cannot_see_a_person(registration: Registration) -> None:
    svc = registration
    person_ref = await _declared_person(svc)

    response = await svc.client.get(f"/persons/{person_ref}", headers=svc.officer())

    assert response.status_code == 403
    assert "pii:read" in response.json()["detail"]
    assert await svc.count(pii_access_log) == 0


async def test_landlord_cannot_see_a_person_even_with_pii_read(
    registration: Registration,
) -> None:
    svc = registration
    person_ref = await _declared_person(svc)
    landlord = svc.auth("landlord", scopes=("pii:read",), party_id="L1")

    response = await svc.client.get(f"/persons/{person_ref}", headers=landlord)

    assert response.status_code == 403
    assert await svc.count(pii_access_log) == 0


async def test_officer_with_pii_read_sees_masked_values_and_the_access_is_audited(
    registration: Registration,
) -> None:
    svc = registration
    person_ref = await _declared_person(svc)
    officer = {**svc.officer("pii:read"), "X-Correlation-ID": "corr-pii-read"}

    response = await svc.client.get(f"/persons/{person_ref}", headers=officer)

    assert response.status_code == 200
    assert response.json() == {
        "person_ref": person_ref,
        "id_number": "4403**********" + id_number()[-4:],
        "name": "王**",
        "phone": "138****8000",
        "gender": "male",
        "birth_date": "1990-01-01",
        "origin_region": "440306",
    }
    (audit,) = await svc.rows(pii_access_log)
    assert (audit.principal, audit.role, audit.action, audit.person_ref) == (
        "officer-G1",
        "officer",
        "read",
        person_ref,
    )
    assert audit.correlation_id == "corr-pii-read"
    assert audit.at.replace(tzinfo=NOW.tzinfo) == NOW


async def test_reveal_returns_the_full_values_and_is_audited_as_a_reveal(
    registration: Registration,
) -> None:
    svc = registration
    person_ref = await _declared_person(svc)

    response = await svc.client.get(
        f"/persons/{person_ref}?reveal=true", headers=svc.officer("pii:read", "pii:reveal")
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["id_number"], body["name"], body["phone"]) == (
        id_number(),
        "王小明",
        "13800138000",
    )
    (audit,) = await svc.rows(pii_access_log)
    assert audit.action == "reveal"


async def test_reveal_without_the_reveal_scope_is_refused_and_not_audited(
    registration: Registration,
) -> None:
    svc = registration
    person_ref = await _declared_person(svc)

    response = await svc.client.get(
        f"/persons/{person_ref}?reveal=true", headers=svc.officer("pii:read")
    )

    assert response.status_code == 403
    assert await svc.count(pii_access_log) == 0


async def test_unknown_person_is_404_and_not_audited(registration: Registration) -> None:
    svc = registration

    response = await svc.client.get("/persons/Pnobody", headers=svc.officer("pii:read"))

    assert response.status_code == 404
    assert await svc.count(pii_access_log) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/properties"),
        ("POST", "/properties/p-1/residences"),
        ("POST", "/properties/p-1/residences/r-1/end"),
        ("PATCH", "/persons/P1"),
    ],
)
async def test_a_command_without_token_or_key_is_401_not_a_header_error(
    registration: Registration, method: str, path: str
) -> None:
    response = await registration.client.request(method, path, json={})

    assert response.status_code == 401, response.text
