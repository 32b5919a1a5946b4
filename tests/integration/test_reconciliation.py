"""Access-control entries on Kafka become one lead on registration.events (Kafka, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from registration.events import TOPIC
from tests.integration.services import (
    ServiceProcess,
    identity_number,
    produce,
    read_topic,
    register_grid,
    running,
    token,
)

pytestmark = pytest.mark.integration

FEED = "feeds.access-control"
LEAD = "registration.UnregisteredOccupantSuspected.v1"


def entry(property_id: str, number: str, at: datetime) -> tuple[str, bytes, bytes, list]:
    body = {
        "device_id": f"gate-{property_id[:8]}",
        "property_id": property_id,
        "id_number": number,
        "direction": "in",
        "at": at.isoformat(),
        "vendor": "acme-doors",  # unknown fields are ignored
    }
    return (FEED, property_id.encode(), json.dumps(body).encode(), [])


def test_repeated_entries_on_kafka_yield_one_unregistered_occupant_suspected(
    registration: ServiceProcess, kafka: str
) -> None:
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    number = identity_number(701)
    now = datetime.now(UTC)
    with running(registration) as service:
        register_grid(service, grid)
        created = service.call(
            "POST",
            "/properties",
            token("landlord", party_id="L-IT"),
            json={
                "address": f"Reconciliation Road {grid}",
                "grid_id": grid,
                "landlord_id": "L-IT",
                "rooms": [{"room_no": "101", "capacity": 4}],
            },
        )
        assert created.status_code == 201, created.text
        property_id = created.json()["property_id"]
        seen = [now - timedelta(days=1), now - timedelta(hours=2), now - timedelta(minutes=1)]
        records = [entry(property_id, number, at) for at in seen]
        # A door system's binary header: the entry still counts (it once dropped the batch).
        t, k, v, _ = records[1]
        records[1] = (t, k, v, [("x-vendor-sig", b"\x93\xfa\x00\xff")])
        poison = (FEED, property_id.encode(), b'{"device_id": "gate-x"}', [])
        asyncio.run(produce(kafka, [*records, records[0], poison]))  # and a redelivery

        events = asyncio.run(read_topic(kafka, TOPIC, key=property_id, expect=2, wait_s=60))
        types = [dict(r.headers)["ce_type"].decode() for r in events]
        assert types == ["registration.PropertyRegistered.v1", LEAD], service.tail()
        lead = json.loads(events[1].value)
        assert lead["property_id"] == property_id
        assert lead["grid_id"] == grid
        assert lead["evidence"]["source"] == "access_control"
        assert (lead["evidence"]["sightings"], lead["evidence"]["distinct_days"]) == (3, 2)
        assert number not in events[1].value.decode()

        # More sightings while the lead is open raise no second lead.
        asyncio.run(produce(kafka, [entry(property_id, number, now - timedelta(minutes=30))]))
        dead = asyncio.run(read_topic(kafka, FEED + ".dlq", key=property_id, expect=1))
        assert len(dead) == 1
        time.sleep(2)
        again = asyncio.run(read_topic(kafka, TOPIC, key=property_id, expect=3, wait_s=3))
        assert [dict(r.headers)["ce_type"].decode() for r in again].count(LEAD) == 1

        officer = token("officer", grids=[grid])
        listed = service.call("GET", f"/leads?grid_id={grid}", officer)
        assert listed.status_code == 200, listed.text
        (shown,) = listed.json()["leads"]
        assert (shown["lead_id"], shown["status"]) == (lead["lead_id"], "open")
