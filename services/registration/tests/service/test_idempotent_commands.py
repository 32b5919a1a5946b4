"""Commands carry an Idempotency-Key: a retry replays, a reused key is refused."""

from __future__ import annotations

from _registration_helpers import Registration

from common.db import idempotency_keys, outbox
from registration.adapters.persons_tables import persons
from registration.adapters.residences_tables import properties, residences


async def _footprint(svc: Registration) -> dict[str, int]:
    await svc.drain()
    return {
        "properties": await svc.count(properties),
        "persons": await svc.count(persons),
        "residences": await svc.count(residences),
        "outbox": await svc.count(outbox),
        "keys": await svc.count(idempotency_keys),
        "published": len(svc.relayed()),
    }


async def test_retried_registration_replays_the_first_response_and_creates_nothing(
    registration: Registration,
) -> None:
    svc = registration
    first = await svc.register_property(key="retry-me")
    before = await _footprint(svc)

    retry = await svc.register_property(key="retry-me")

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert (
        await _footprint(svc)
        == before
        == {
            "properties": 1,
            "persons": 0,
            "residences": 0,
            "outbox": 1,
            "keys": 1,
            "published": 1,
        }
    )


async def test_retried_move_in_replays_the_first_response_and_creates_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    first = await svc.declare(property_id, key="move-in-retry")
    before = await _footprint(svc)

    retry = await svc.declare(property_id, key="move-in-retry")

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await _footprint(svc) == before
    assert before["residences"] == 1


async def test_same_key_with_a_different_body_is_refused_naming_the_header(
    registration: Registration,
) -> None:
    svc = registration
    await svc.register_property(key="reused")
    before = await _footprint(svc)

    reused = await svc.register_property(key="reused", grid_id="G2", landlord_id="L1")

    assert reused.status_code == 422
    (error,) = reused.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "different request" in error["msg"]
    assert await _footprint(svc) == before


async def test_same_key_on_another_property_is_refused(registration: Registration) -> None:
    svc = registration
    first_property = await svc.new_property(key="p1")
    second_property = await svc.new_property(key="p2")
    await svc.declare(first_property, key="one-key")

    reused = await svc.declare(second_property, key="one-key")

    assert reused.status_code == 422
    assert reused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await svc.count(residences) == 1


async def test_command_without_idempotency_key_is_refused(registration: Registration) -> None:
    svc = registration

    response = await svc.client.post(
        "/properties",
        json={
            "address": "1 Road",
            "grid_id": "G1",
            "landlord_id": "L1",
            "rooms": [{"room_no": "1", "capacity": 1}],
        },
        headers=svc.landlord(),
    )

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["header", "Idempotency-Key"]
    assert "required" in error["msg"]
    assert await svc.count(properties) == 0
    assert await svc.count(outbox) == 0


async def test_the_same_key_from_different_callers_are_different_commands(
    registration: Registration,
) -> None:
    svc = registration

    first = await svc.register_property(svc.landlord("L1"), key="shared", landlord_id="L1")
    second = await svc.register_property(svc.landlord("L2"), key="shared", landlord_id="L2")

    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second.headers
    assert first.json()["property_id"] != second.json()["property_id"]
    assert await svc.count(properties) == 2
