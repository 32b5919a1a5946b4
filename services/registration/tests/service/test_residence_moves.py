"""Move-outs, moves elsewhere, self-declarations by persons, and occupants found by officers."""

from __future__ import annotations

import json

from _persons_helpers import (
    OTHER_ID,
    bodies,
    derived_ref,
    finding,
    move_out,
    person_token,
    publish_finding,
)
from _registration_helpers import MONTH, Registration, id_number

from common.db import idempotency_keys, outbox
from registration.adapters.persons_tables import persons
from registration.adapters.residences_tables import residences


async def declared(svc: Registration, **overrides: object) -> tuple[str, dict[str, object]]:
    property_id = await svc.new_property()
    response = await svc.declare(property_id, **overrides)
    assert response.status_code == 201, response.text
    return property_id, response.json()


async def test_the_landlord_declares_a_move_out(registration: Registration) -> None:
    svc = registration
    property_id, residence = await declared(svc)

    response = await move_out(svc, property_id, str(residence["residence_id"]))
    replay = await move_out(svc, property_id, str(residence["residence_id"]))
    await svc.drain()

    assert response.status_code == 200, response.text
    assert response.json()["moved_out_on"] == "2026-03-03"
    assert response.json()["reason"] == "moved_out"
    assert replay.headers["Idempotent-Replayed"] == "true"
    (row,) = await svc.rows(residences)
    assert (str(row.ended_on), row.end_reason, row.ended_by) == (
        "2026-03-03",
        "moved_out",
        "landlord-L1",
    )
    (ended,) = svc.relayed_of("ResidenceEnded")
    assert ended.key == property_id.encode()
    body = json.loads(ended.body)
    assert (body["reason"], body["moved_in_on"], body["moved_out_on"]) == (
        "moved_out",
        "2026-03-02",
        "2026-03-03",
    )
    assert (body["channel"], body["superseded_by"]) == ("landlord_self_declaration", None)
    view = await svc.client.get(f"/properties/{property_id}", headers=svc.landlord())
    assert view.json()["residences"] == []


async def test_grid_staff_may_declare_a_move_out_as_a_correction(
    registration: Registration,
) -> None:
    svc = registration
    property_id, residence = await declared(svc)
    worker = svc.auth("grid_worker", grids=("G1",))

    response = await move_out(
        svc, property_id, str(residence["residence_id"]), worker, reason="corrected"
    )
    await svc.drain()

    assert response.status_code == 200, response.text
    (body,) = bodies(svc.relayed_of("ResidenceEnded"))
    assert (body["reason"], body["channel"]) == ("corrected", "officer")


async def test_a_move_out_by_someone_else_is_forbidden_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id, residence = await declared(svc)
    residence_id = str(residence["residence_id"])
    before = (await svc.count(outbox), await svc.count(idempotency_keys))

    other_landlord = await move_out(svc, property_id, residence_id, svc.landlord("L2"))
    other_grid = await move_out(
        svc, property_id, residence_id, svc.officer("registration:write", grids=("G2",))
    )
    the_person = await move_out(
        svc, property_id, residence_id, person_token(svc, str(residence["person_ref"]))
    )

    assert (other_landlord.status_code, other_grid.status_code, the_person.status_code) == (
        403,
        403,
        403,
    )
    (row,) = await svc.rows(residences)
    assert row.ended_on is None
    assert (await svc.count(outbox), await svc.count(idempotency_keys)) == before


async def test_a_move_out_breaking_a_rule_is_refused_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id, residence = await declared(svc)
    residence_id = str(residence["residence_id"])
    other_property = await svc.new_property(key="prop-key-2")
    before = await svc.count(outbox)

    early = await move_out(svc, property_id, residence_id, key="a", moved_out_on="2026-03-01")
    future = await move_out(svc, property_id, residence_id, key="b", moved_out_on="2026-03-05")
    by_hand = await move_out(svc, property_id, residence_id, key="c", reason="moved_elsewhere")
    elsewhere = await move_out(svc, other_property, residence_id, key="d")
    unknown = await move_out(svc, property_id, "no-such-residence", key="e")

    assert [r.status_code for r in (early, future, by_hand, elsewhere, unknown)] == [
        422,
        422,
        422,
        404,
        404,
    ]
    assert early.json()["detail"][0]["loc"] == ["body", "moved_out_on"]
    assert await svc.count(outbox) == before
    assert (await move_out(svc, property_id, residence_id, key="f")).status_code == 200
    twice = await move_out(svc, property_id, residence_id, key="g")
    assert twice.status_code == 422
    assert "ended already" in twice.json()["detail"][0]["msg"]


async def test_a_move_in_elsewhere_ends_the_previous_residence_in_the_same_transaction(
    registration: Registration,
) -> None:
    svc = registration
    old_property, first = await declared(svc, moved_in_on="2026-02-01")
    new_property = await svc.new_property(
        headers=svc.landlord("L2"), key="prop-key-2", landlord_id="L2", grid_id="G2"
    )

    moved = await svc.declare(new_property, svc.landlord("L2"), key="k-new")
    await svc.drain()

    assert moved.status_code == 201, moved.text
    assert moved.json()["person_ref"] == first["person_ref"]
    assert moved.json()["ended_residences"] == [first["residence_id"]]
    old, new = sorted(await svc.rows(residences), key=lambda r: r.moved_in_on)
    assert (str(old.ended_on), old.end_reason, old.superseded_by) == (
        "2026-03-02",
        "moved_elsewhere",
        new.id,
    )
    assert (old.ended_by, new.ended_on) == ("landlord-L2", None)
    ended, declared_again = svc.relayed_of("ResidenceEnded", "ResidenceDeclared")[1:]
    assert ended.key == old_property.encode()  # keyed by the building that was left
    assert declared_again.key == new_property.encode()
    body = json.loads(ended.body)
    assert (body["reason"], body["moved_out_on"], body["superseded_by"], body["grid_id"]) == (
        "moved_elsewhere",
        "2026-03-02",
        new.id,
        "G1",
    )
    assert json.loads(declared_again.body)["residence_id"] == new.id
    assert await svc.count(persons) == 1


async def test_the_same_room_twice_while_living_there_is_422_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id, _ = await declared(svc)
    before = (
        await svc.count(outbox),
        await svc.count(residences),
        await svc.count(idempotency_keys),
    )

    again = await svc.declare(property_id, key="k-again", phone="13900139000")

    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "room_no"]
    after = (
        await svc.count(outbox),
        await svc.count(residences),
        await svc.count(idempotency_keys),
    )
    assert after == before
    (record,) = await svc.rows(persons)
    assert record.version == 1  # the new phone was not recorded either


async def test_a_move_in_before_the_current_residence_began_is_422(
    registration: Registration,
) -> None:
    svc = registration
    await declared(svc, moved_in_on="2026-03-02")
    other = await svc.new_property(key="prop-key-2")

    response = await svc.declare(other, key="k-early", moved_in_on="2026-02-20")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "moved_in_on"]
    assert await svc.count(residences) == 1


async def test_a_person_declares_their_own_move_in_first_time_by_the_derived_ref(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    me = person_token(svc, derived_ref(svc, OTHER_ID))

    response = await svc.declare(property_id, me, id_number=OTHER_ID, name="李娜", phone=None)
    await svc.drain()

    assert response.status_code == 201, response.text
    assert response.json()["person_ref"] == derived_ref(svc, OTHER_ID)
    (declared_event,) = bodies(svc.relayed_of("ResidenceDeclared"))
    assert declared_event["channel"] == "person_self_declaration"
    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())
    assert figures.json()["self_declared"] == 1


async def test_a_person_declares_only_for_themself(registration: Registration) -> None:
    svc = registration
    property_id, first = await declared(svc)
    stranger = person_token(svc, derived_ref(svc, OTHER_ID))
    before = (await svc.count(outbox), await svc.count(residences))

    for_someone_else = await svc.declare(property_id, stranger, key="k-x", room_no="102")
    no_party = await svc.declare(
        property_id, svc.auth("person"), key="k-y", room_no="102", id_number=OTHER_ID
    )

    assert (for_someone_else.status_code, no_party.status_code) == (403, 403)
    assert "only for themself" in for_someone_else.json()["detail"]
    assert (await svc.count(outbox), await svc.count(residences)) == before

    # Known to the office: the ref on record works.
    me = person_token(svc, str(first["person_ref"]))
    moved = await svc.declare(property_id, me, key="k-me", room_no="102")
    assert moved.status_code == 201, moved.text


async def test_an_occupant_found_by_an_officer_is_declared_with_channel_officer(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    found = finding(property_id, moved_in_on="2026-02-27", visit_id="V-1")

    await publish_finding(svc, found, ce_id="ce-finding-1")
    await publish_finding(svc, found, ce_id="ce-finding-1")  # redelivered: applied once
    await svc.drain()

    (row,) = await svc.rows(residences)
    assert (row.channel, row.declared_by, row.finding_id) == (
        "officer",
        "inspection:officer-7",
        found.finding_id,
    )
    assert (str(row.moved_in_on), row.room_no) == ("2026-02-27", "101")
    (event,) = bodies(svc.relayed_of("ResidenceDeclared"))
    assert (event["channel"], event["property_id"]) == ("officer", property_id)
    assert len(svc.relayed_of("PersonRegistered")) == 1
    (settled,) = bodies(svc.relayed_of("OccupantFindingSettled"))  # public, pseudonymous
    assert (settled["finding_id"], settled["outcome"], settled["residence_id"]) == (
        found.finding_id,
        "registered",
        event["residence_id"],
    )
    assert settled["person_ref"] == event["person_ref"] and found.id_number not in str(settled)
    assert settled["visit_id"] == "V-1"  # penalties groups one visit's findings in one case
    figures = await svc.client.get(f"/figures/grids/G1?month={MONTH}", headers=svc.officer())
    assert (figures.json()["declarations"], figures.json()["self_declared"]) == (1, 0)
    assert svc.finding_dead_letters == []


async def test_finding_someone_where_they_are_declared_adds_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id, _ = await declared(svc)

    await publish_finding(svc, finding(property_id, phone="13900139000"))
    await svc.drain()

    assert await svc.count(residences) == 1
    (record,) = await svc.rows(persons)
    assert svc.cipher.decrypt(record.phone_enc) == "13900139000"  # contact details updated
    assert len(svc.relayed_of("ResidenceDeclared")) == 1
    (settled,) = bodies(svc.relayed_of("OccupantFindingSettled"))
    assert (settled["outcome"], settled["residence_id"]) == ("already_declared", None)
    assert settled["visit_id"] is None  # a finding from before visits carried their id


async def test_a_finding_that_can_never_apply_is_dead_lettered_at_once(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()

    await publish_finding(svc, finding(property_id, id_number=id_number()[:17] + "0"))
    await publish_finding(svc, finding(property_id, room_no="999"))

    assert len(svc.finding_dead_letters) == 2
    for dead in svc.finding_dead_letters:
        assert dead.topic == "inspection.findings.restricted.dlq"
        assert dead.headers["dlq_error_type"] == "PoisonMessage"
        assert dead.headers["dlq_attempts"] == "1"
    assert await svc.count(residences) == 0
    assert await svc.count(persons) == 0
