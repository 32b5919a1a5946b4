"""A landlord registers a building and declares a move-in: state, events, figures."""

from __future__ import annotations

import json

from _registration_helpers import MONTH, NOW, Registration, id_number

from common.pii import mask_id_number
from registration.adapters.persons_tables import persons
from registration.adapters.residences_tables import properties, residences, rooms
from registration.events import PropertyRegistered, ResidenceDeclared


async def _register_and_declare(svc: Registration) -> tuple[str, dict]:
    registered = await svc.register_property(
        {**svc.landlord(), "X-Correlation-ID": "corr-register"}
    )
    assert registered.status_code == 201, registered.text
    property_id = registered.json()["property_id"]
    declared = await svc.declare(
        property_id, {**svc.landlord(), "X-Correlation-ID": "corr-declare"}
    )
    assert declared.status_code == 201, declared.text
    await svc.drain()
    return property_id, declared.json()


async def test_landlord_registers_a_property_and_declares_a_move_in(
    registration: Registration,
) -> None:
    svc = registration

    property_id, declared = await _register_and_declare(svc)

    assert declared["property_id"] == property_id
    assert declared["room_no"] == "101"
    assert declared["on_time"] is True
    assert declared["deadline"] == "2026-03-05"
    assert declared["over_capacity"] is False
    assert declared["person_ref"].startswith("P")
    (prop,) = await svc.rows(properties)
    assert (prop.id, prop.grid_id, prop.landlord_id, prop.channel) == (
        property_id,
        "G1",
        "L1",
        "landlord_self_declaration",
    )
    assert sorted((r.room_no, r.capacity) for r in await svc.rows(rooms)) == [
        ("101", 2),
        ("102", 1),
    ]
    (residence,) = await svc.rows(residences)
    assert (residence.id, residence.person_ref, residence.declared_by) == (
        declared["residence_id"],
        declared["person_ref"],
        "landlord-L1",
    )
    assert await svc.count(persons) == 1


async def test_outbox_relays_property_registered_then_residence_declared_keyed_by_property(
    registration: Registration,
) -> None:
    svc = registration

    property_id, declared = await _register_and_declare(svc)

    (person,) = svc.relayed_of("PersonRegistered")  # keyed by the person, not the property
    assert person.key == declared["person_ref"].encode()
    relayed = svc.relayed_of("PropertyRegistered", "ResidenceDeclared")
    assert [r.headers["ce_type"] for r in relayed] == [
        "registration.PropertyRegistered.v1",
        "registration.ResidenceDeclared.v1",
    ]
    for record, correlation_id in zip(relayed, ["corr-register", "corr-declare"], strict=True):
        assert record.topic == "registration.events"
        assert record.key == property_id.encode()
        assert record.headers["ce_specversion"] == "1.0"
        assert record.headers["ce_source"] == "/services/registration"
        assert record.headers["ce_subject"] == property_id
        assert record.headers["ce_time"] == NOW.isoformat()
        assert record.headers["ce_correlationid"] == correlation_id
        assert record.headers["content-type"] == "application/json"
        assert record.headers["traceparent"].startswith("00-")
    assert relayed[0].headers["ce_id"] != relayed[1].headers["ce_id"]
    registered = PropertyRegistered.model_validate_json(relayed[0].body)
    assert (registered.property_id, registered.landlord_id, len(registered.rooms)) == (
        property_id,
        "L1",
        2,
    )
    residence = ResidenceDeclared.model_validate_json(relayed[1].body)
    assert residence.residence_id == declared["residence_id"]
    assert residence.on_time is True


async def test_residence_event_carries_a_pseudonym_and_masked_number_but_no_personal_data(
    registration: Registration,
) -> None:
    svc = registration

    _, declared = await _register_and_declare(svc)

    (residence,) = svc.relayed_of("ResidenceDeclared")
    body = residence.body
    payload = json.loads(body)
    assert payload["person_ref"] == declared["person_ref"]
    assert payload["id_number_masked"] == mask_id_number(id_number())
    assert payload["id_number_masked"] != id_number()
    assert id_number().encode() not in body
    assert "王小明".encode() not in body and b"\\u738b" not in body
    assert b"13800138000" not in body
    assert not {"id_number", "name", "phone"} & payload.keys()
    assert (payload["gender"], payload["birth_year"], payload["origin_region"]) == (
        "male",
        1990,
        "440306",
    )


async def test_figures_consumer_counts_the_declaration_for_the_grid_and_month(
    registration: Registration,
) -> None:
    svc = registration
    await _register_and_declare(svc)

    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())

    assert figures.status_code == 200
    assert figures.json() == {
        "grid_id": "G1",
        "month": MONTH,
        "declarations": 1,
        "self_declared": 1,
        "on_time": 1,
        "over_capacity": 0,
        "self_declaration_rate": 1.0,
    }


async def test_a_redelivered_event_is_counted_once(registration: Registration) -> None:
    svc = registration
    await _register_and_declare(svc)
    (residence_event,) = svc.relayed_of("ResidenceDeclared")

    await svc.runtime.broker.publish(
        residence_event.body,
        "registration.events",
        key=residence_event.key,
        headers=residence_event.headers,
    )

    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())
    assert figures.json()["declarations"] == 1
    assert svc.dead_letters == []


async def test_late_declaration_is_counted_as_not_on_time(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()

    late = await svc.declare(
        property_id, moved_in_on="2026-02-20"
    )  # in the Spring Festival: due 26 Feb
    await svc.drain()

    assert late.status_code == 201
    assert (late.json()["on_time"], late.json()["deadline"]) == (False, "2026-02-26")
    (residence,) = await svc.rows(residences)
    assert residence.on_time is False
    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())
    assert (figures.json()["declarations"], figures.json()["on_time"]) == (1, 0)


async def test_move_in_to_a_full_room_is_accepted_and_flagged_over_capacity(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()

    first = await svc.declare(property_id, key="k-a", room_no="102")
    second = await svc.declare(
        property_id, key="k-b", room_no="102", id_number=id_number("51010719850615002")
    )
    await svc.drain()

    assert (first.status_code, first.json()["over_capacity"]) == (201, False)
    assert (second.status_code, second.json()["over_capacity"]) == (201, True)
    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())
    assert (figures.json()["declarations"], figures.json()["over_capacity"]) == (2, 1)


async def test_officer_declaration_is_not_a_self_declaration(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()
    officer = svc.officer("registration:write", "registration:read")

    await svc.declare(property_id, key="k-landlord")
    by_officer = await svc.declare(
        property_id, officer, key="k-officer", id_number=id_number("51010719850615002")
    )
    await svc.drain()

    assert by_officer.status_code == 201
    assert json.loads(svc.relayed()[-1].body)["channel"] == "officer"
    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())
    assert figures.json()["declarations"] == 2
    assert figures.json()["self_declared"] == 1
    assert figures.json()["self_declaration_rate"] == 0.5


async def test_declaring_the_same_person_again_keeps_one_person_record(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()

    first = await svc.declare(property_id, key="k-1", room_no="101")
    again = await svc.declare(property_id, key="k-2", room_no="102", phone="13900139000")

    assert first.json()["person_ref"] == again.json()["person_ref"]
    assert await svc.count(persons) == 1
    assert await svc.count(residences) == 2
    (person,) = await svc.rows(persons)
    assert svc.cipher.decrypt(person.phone_enc) == "13900139000"


async def test_property_view_lists_rooms_and_occupants(registration: Registration) -> None:
    svc = registration
    property_id, declared = await _register_and_declare(svc)

    view = await svc.client.get(f"/properties/{property_id}", headers=svc.landlord())

    assert view.status_code == 200
    assert view.json()["rooms"] == [
        {"room_no": "101", "capacity": 2},
        {"room_no": "102", "capacity": 1},
    ]
    (occupant,) = view.json()["residences"]
    assert occupant["person_ref"] == declared["person_ref"]
    assert occupant["channel"] == "landlord_self_declaration"


async def test_figures_of_a_month_without_declarations_are_zero(registration: Registration) -> None:
    figures = await registration.client.get(
        "/figures/grids/G1?month=2025-12", headers=registration.officer()
    )

    assert figures.status_code == 200
    assert figures.json()["declarations"] == 0
    assert figures.json()["self_declaration_rate"] is None
