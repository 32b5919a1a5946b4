"""Invalid commands are refused with 422 naming the field, and change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from _registration_helpers import Registration, id_number

from registration.adapters.persons_tables import persons
from registration.adapters.residences_tables import properties


def _locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in response.json()["detail"]]


async def test_invalid_identity_number_is_refused_naming_id_number_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()
    valid = id_number()
    wrong_check = valid[:17] + ("0" if valid[17] != "0" else "1")

    response = await svc.declare(property_id, id_number=wrong_check)

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "id_number"]
    assert "check character" in error["msg"]
    assert (
        await svc.state()
        == before
        == {
            "properties": 1,
            "persons": 0,
            "residences": 0,
            "outbox": 1,  # the property's registration only
            "keys": 1,
        }
    )
    await svc.drain()
    assert [r.headers["ce_type"] for r in svc.relayed()] == ["registration.PropertyRegistered.v1"]


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"id_number": id_number("44030619900230123")}, ["body", "id_number"]),  # 30 February
        ({"id_number": id_number("99030619900101123")}, ["body", "id_number"]),  # no such region
        ({"id_number": "4403061990"}, ["body", "id_number"]),  # too short for the schema
        ({"room_no": "999"}, ["body", "room_no"]),
        ({"phone": "12345"}, ["body", "phone"]),
        ({"phone": "23800138000"}, ["body", "phone"]),
        ({"moved_in_on": "2026-03-05"}, ["body", "moved_in_on"]),  # tomorrow
        ({"moved_in_on": "not-a-date"}, ["body", "moved_in_on"]),
        ({"name": ""}, ["body", "name"]),
        ({"name": "   "}, ["body", "name"]),
        ({"nationality": "CN"}, ["body", "nationality"]),  # extra field
    ],
    ids=[
        "impossible-birth-date",
        "unknown-region",
        "short-id-number",
        "unknown-room",
        "short-phone",
        "phone-not-mobile",
        "future-move-in",
        "unparseable-date",
        "empty-name",
        "blank-name",
        "extra-field",
    ],
)
async def test_invalid_move_in_is_refused_naming_the_field(
    registration: Registration, overrides: dict[str, Any], loc: list[str]
) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()

    response = await svc.declare(property_id, **overrides)

    assert response.status_code == 422
    assert _locs(response) == [loc]
    assert await svc.state() == before


async def test_extra_field_error_says_it_is_not_permitted(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()

    response = await svc.declare(property_id, nationality="CN")

    assert response.json()["detail"][0]["type"] == "extra_forbidden"


@pytest.mark.parametrize(
    ("rooms", "loc"),
    [
        ([{"room_no": "101", "capacity": 2}, {"room_no": "101", "capacity": 1}], ["body", "rooms"]),
        ([{"room_no": "101", "capacity": 0}], ["body", "rooms", 0, "capacity"]),
        ([{"room_no": "101", "capacity": 1, "floor": 3}], ["body", "rooms", 0, "floor"]),
    ],
    ids=["duplicate-room-numbers", "capacity-0", "extra-room-field"],
)
async def test_invalid_property_is_refused_naming_the_field(
    registration: Registration, rooms: list[dict[str, Any]], loc: list[Any]
) -> None:
    svc = registration

    response = await svc.register_property(rooms=rooms)

    assert response.status_code == 422
    assert _locs(response) == [loc]
    assert await svc.state() == {
        "properties": 0,
        "persons": 0,
        "residences": 0,
        "outbox": 0,
        "keys": 0,
    }


async def test_property_without_rooms_is_refused(registration: Registration) -> None:
    svc = registration

    response = await svc.client.post(
        "/properties",
        json={"address": "1 Road", "grid_id": "G1", "landlord_id": "L1", "rooms": []},
        headers={**svc.landlord(), "Idempotency-Key": "k"},
    )

    assert response.status_code == 422
    assert _locs(response) == [["body", "rooms"]]
    assert await svc.count(properties) == 0


async def test_move_in_to_an_unknown_property_is_404(registration: Registration) -> None:
    svc = registration

    response = await svc.declare("no-such-property")

    assert response.status_code == 404
    assert await svc.count(persons) == 0
