"""A building found on a sweep, on real Kafka and PostgreSQL: inspection.events -> property."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from common.envelope import Envelope
from registration.events import TOPIC
from registration.upstream.inspection import DiscoveredRoom, PropertyDiscovered
from tests.integration.services import ServiceProcess, produce, read_topic, running, token

pytestmark = pytest.mark.integration


def wait_for_discovery(
    service: ServiceProcess, grid: str, discovery_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    officer = token("officer", grids=[grid])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = service.call("GET", f"/discoveries?grid_id={grid}", officer)
        assert response.status_code == 200, response.text
        for row in response.json()["discoveries"]:
            if row["discovery_id"] == discovery_id:
                found: dict[str, Any] = row
                return found
        time.sleep(0.2)
    raise AssertionError(f"discovery {discovery_id} not applied in {timeout} s")


def test_a_discovered_property_is_registered_and_published_on_registration_events(
    registration: ServiceProcess, kafka: str
) -> None:
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    event = PropertyDiscovered(
        discovery_id=f"D-{uuid.uuid4().hex}",
        sweep_id=f"SWEEP-{grid}",
        grid_id=grid,
        address="99 Integration Back Lane",
        rooms=[
            DiscoveredRoom(room_no="1F", capacity_estimate=4),
            DiscoveredRoom(room_no="2F", capacity_estimate=6),
        ],
        landlord_hint="L-IT-SWEEP",
        discovered_at=datetime.now(UTC),
        officer="it-sweep-officer",
    )
    envelope = Envelope(
        type=event.ce_type(), source="/services/inspection", subject=event.subject()
    )
    record = (event.topic, event.subject().encode(), event.to_json(), envelope.headers())

    with running(registration):
        # Twice, as at-least-once delivery may: one property all the same.
        asyncio.run(produce(kafka, [record, record]))
        discovery = wait_for_discovery(registration, grid, event.discovery_id)
        assert discovery["status"] == "registered", discovery
        property_id = discovery["property_id"]
        records = asyncio.run(read_topic(kafka, TOPIC, key=property_id, expect=1))
        landlord = token("landlord", party_id="L-IT-SWEEP")
        view = registration.call("GET", f"/properties/{property_id}", landlord)

    (published,) = records
    headers = {k: v.decode() for k, v in published.headers}
    assert headers["ce_type"] == "registration.PropertyRegistered.v1"
    assert headers["ce_correlationid"] == envelope.id  # the sweep's trace carries on
    body = json.loads(published.value)
    assert (body["property_id"], body["grid_id"], body["landlord_id"]) == (
        property_id,
        grid,
        "L-IT-SWEEP",
    )
    assert (body["channel"], body["discovery_id"], body["sweep_id"]) == (
        "officer",
        event.discovery_id,
        event.sweep_id,
    )
    assert [(r["room_no"], r["capacity"]) for r in body["rooms"]] == [("1F", 4), ("2F", 6)]
    assert view.status_code == 200, view.text
    assert view.json()["address"] == "99 Integration Back Lane"
