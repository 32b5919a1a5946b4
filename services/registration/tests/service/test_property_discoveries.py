"""Buildings found on inspection sweeps (inspection.PropertyDiscovered) become properties."""

from __future__ import annotations

import json
from typing import Any

from _places_helpers import (
    bodies,
    discovery,
    discovery_headers,
    post,
    publish_discovery,
    register_company,
    staff,
)
from _registration_helpers import Registration
from faststream.kafka import KafkaMessage

from common.db import outbox
from common.inbox import raw_body
from registration.adapters.places_tables import property_discoveries
from registration.adapters.residences_tables import properties, rooms
from registration.events import PropertyRegistered
from registration.upstream.inspection import DiscoveredRoom


async def discoveries(svc: Registration, status: str | None = None) -> list[dict[str, Any]]:
    query = "/discoveries?grid_id=G1" + (f"&status={status}" if status else "")
    response = await svc.client.get(query, headers=staff(svc))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["discoveries"]
    return rows


async def test_a_discovered_building_with_its_landlord_is_registered_from_the_sweep(
    registration: Registration,
) -> None:
    svc = registration
    event = discovery(landlord_hint="L9")

    await publish_discovery(svc, event)
    await svc.drain()

    (row,) = await discoveries(svc)
    assert (row["discovery_id"], row["status"]) == (event.discovery_id, "registered")
    (prop,) = await svc.rows(properties)
    assert (prop.id, prop.grid_id, prop.landlord_id, prop.channel, prop.registered_by) == (
        row["property_id"],
        "G1",
        "L9",
        "inspection_sweep",
        "officer-sweep-1",
    )
    assert [(r.room_no, r.capacity) for r in await svc.rows(rooms)] == [("1F", 4)]
    (record,) = [r for r in svc.relayed() if "PropertyRegistered" in r.headers["ce_type"]]
    registered = PropertyRegistered.model_validate_json(record.body)
    # The published enum is unchanged: channel officer, and the sweep in optional fields.
    assert (registered.channel.value, registered.discovery_id, registered.sweep_id) == (
        "officer",
        event.discovery_id,
        "SWEEP-2026-03-G1",
    )
    assert record.key == prop.id.encode()
    assert record.headers["ce_correlationid"] == "corr-sweep"


async def test_the_same_discovery_twice_registers_one_property(
    registration: Registration,
) -> None:
    svc = registration
    event = discovery()

    await publish_discovery(svc, event, ce_id="evt-1")
    await publish_discovery(svc, event, ce_id="evt-1")  # redelivery: the inbox skips it
    await publish_discovery(svc, event, ce_id="evt-2")  # re-sent: the discovery id skips it
    await svc.drain()

    assert await svc.count(properties) == 1
    assert await svc.count(property_discoveries) == 1
    assert len(bodies(svc, "PropertyRegistered.v1")) == 1


async def test_a_building_already_registered_at_that_address_is_matched_not_duplicated(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()  # "12 Wentang Road, Building 3" in G1

    await publish_discovery(svc, discovery(address=" 12 Wentang Road,  Building 3"))

    (row,) = await discoveries(svc)
    assert (row["status"], row["property_id"]) == ("matched_existing", property_id)
    assert await svc.count(properties) == 1


async def test_without_a_landlord_it_waits_for_the_grid_staff_to_name_one(
    registration: Registration,
) -> None:
    svc = registration
    event = discovery(landlord_hint=None)
    await publish_discovery(svc, event)
    (pending,) = await discoveries(svc, "pending_confirmation")
    assert pending["property_id"] is None
    assert await svc.count(properties) == 0

    unknown = await post(
        svc, f"/discoveries/{event.discovery_id}/confirm", {"landlord_id": "L7"}, staff(svc)
    )
    landlord = await register_company(svc)
    outside = await post(
        svc,
        f"/discoveries/{event.discovery_id}/confirm",
        {"landlord_id": landlord},
        staff(svc, "G2"),
    )
    confirmed = await post(
        svc, f"/discoveries/{event.discovery_id}/confirm", {"landlord_id": landlord}, staff(svc)
    )
    twice = await post(
        svc, f"/discoveries/{event.discovery_id}/confirm", {"landlord_id": landlord}, staff(svc)
    )

    assert unknown.status_code == 422  # a landlord the office has no record of
    assert unknown.json()["detail"][0]["loc"] == ["body", "landlord_id"]
    assert outside.status_code == 403
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "registered"
    assert twice.status_code == 422
    (prop,) = await svc.rows(properties)
    assert (prop.id, prop.landlord_id, prop.channel) == (
        confirmed.json()["property_id"],
        landlord,
        "inspection_sweep",
    )
    (row,) = await discoveries(svc)
    assert (row["status"], row["landlord_hint"]) == ("registered", landlord)
    await svc.drain()
    (registered,) = bodies(svc, "PropertyRegistered.v1")
    assert registered["discovery_id"] == event.discovery_id


async def test_a_discovery_that_breaks_a_property_rule_is_kept_as_rejected(
    registration: Registration,
) -> None:
    svc = registration

    await publish_discovery(svc, discovery(rooms=[]))
    await publish_discovery(
        svc, discovery(rooms=[DiscoveredRoom(room_no="1", capacity_estimate=0)])
    )

    rows = await discoveries(svc, "rejected")
    assert sorted(r["reason"].split(":")[0] for r in rows) == ["rooms", "rooms.0.capacity"]
    assert await svc.count(properties) == 0
    assert await svc.count(outbox) == 0


async def test_other_inspection_events_are_ignored_and_poison_is_dead_lettered(
    registration: Registration,
) -> None:
    svc = registration
    dead: list[bytes] = []

    async def record(body: bytes, msg: KafkaMessage) -> None:
        dead.append(body)

    # Subscribed after the broker started: set up and started by hand.
    subscriber = svc.runtime.broker.subscriber(
        "inspection.events.dlq", group_id="test-inspection-dlq", decoder=raw_body
    )
    subscriber(record)
    await subscriber.start()
    event = discovery()
    other = {**discovery_headers(event), "ce_type": "inspection.SpotCheckCompleted.v1"}
    broken = {**discovery_headers(event), "ce_id": "broken"}

    await svc.runtime.broker.publish(b'{"anything": 1}', "inspection.events", headers=other)
    await svc.runtime.broker.publish(b'{"discovery_id": 1}', "inspection.events", headers=broken)

    assert dead == [b'{"discovery_id": 1}']
    assert await svc.count(property_discoveries) == 0
    assert json.loads(dead[0]) == {"discovery_id": 1}
