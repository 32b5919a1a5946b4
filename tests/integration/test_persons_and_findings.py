"""Occupants found by officers, and who sees a person's identity: on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from common.envelope import Envelope
from registration.events import PERSONS_TOPIC, TOPIC
from registration.upstream.inspection import FINDINGS_TOPIC, OccupantFound
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

NAME, PHONE = "Li Si", "13712345678"


def register_property(service: ServiceProcess, grid: str) -> str:
    register_grid(service, grid)
    landlord = token("landlord", party_id="L-IT")
    response = service.call(
        "POST",
        "/properties",
        landlord,
        json={
            "address": "Inspection Road 1",
            "grid_id": grid,
            "landlord_id": "L-IT",
            "rooms": [{"room_no": "301", "capacity": 2}],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["property_id"])


def test_an_occupant_found_by_an_officer_is_declared_and_only_the_restricted_topic_names_them(
    registration: ServiceProcess, kafka: str
) -> None:
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    number = identity_number(random.randrange(500, 1000))
    with running(registration):
        property_id = register_property(registration, grid)
        found = OccupantFound(
            finding_id=f"F-{uuid.uuid4().hex[:8]}",
            property_id=property_id,
            room_no="301",
            id_number=number,
            full_name=NAME,
            phone=PHONE,
            found_at=datetime.now(UTC),
            officer_id="officer-it",
        )
        envelope = Envelope(
            type=found.ce_type(), source="/services/inspection", subject=property_id
        )
        asyncio.run(
            produce(
                kafka,
                [(FINDINGS_TOPIC, property_id.encode(), found.to_json(), envelope.headers())],
            )
        )

        # The residence is declared, by the officer, keyed by the property.
        # And what registration made of the finding is public, pseudonymous.
        by_property = asyncio.run(read_topic(kafka, TOPIC, key=property_id, expect=3))
        types = [dict(r.headers)["ce_type"].decode() for r in by_property]
        assert types == [
            "registration.PropertyRegistered.v1",
            "registration.ResidenceDeclared.v1",
            "registration.OccupantFindingSettled.v1",
        ]
        assert json.loads(by_property[2].value)["outcome"] == "registered"
        residence = json.loads(by_property[1].value)
        assert (residence["channel"], residence["room_no"]) == ("officer", "301")
        person_ref = residence["person_ref"]

        # The restricted topic carries the full identity record, keyed by the person ...
        (restricted,) = asyncio.run(read_topic(kafka, PERSONS_TOPIC, key=person_ref, expect=1))
        assert dict(restricted.headers)["ce_type"] == b"registration.PersonIdentityRecorded.v1"
        record = json.loads(restricted.value)
        assert (record["id_number"], record["full_name"], record["phone"]) == (number, NAME, PHONE)

        # ... and registration.events only the pseudonym, for the person and the property.
        (registered,) = asyncio.run(read_topic(kafka, TOPIC, key=person_ref, expect=1))
        assert dict(registered.headers)["ce_type"] == b"registration.PersonRegistered.v1"
        for message in (*by_property, registered):
            text = message.value.decode()
            assert number not in text and NAME not in text and PHONE not in text

        # The grid's figures count it, as not self-declared.
        month = datetime.now(UTC).strftime("%Y-%m")
        deadline, figures = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            figures = registration.call(
                "GET", f"/figures/grids/{grid}?month={month}", token("officer", grids=[grid])
            ).json()
            if figures.get("declarations"):
                break
            time.sleep(0.2)
        assert (figures["declarations"], figures["self_declared"]) == (1, 0)


def test_concurrent_first_declarations_of_one_new_person_make_one_record(
    registration: ServiceProcess, kafka: str
) -> None:
    """Landlords declaring the same newcomer at once: every request succeeds (the losers
    of the race on the new person record run again), and there is one record."""
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    number = identity_number(random.randrange(500, 1000))
    landlord = token("landlord", party_id="L-IT")
    rooms = [f"R{i}" for i in range(8)]
    today = datetime.now(UTC).date().isoformat()

    async def declare_all(base_url: str, property_id: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        f"/properties/{property_id}/residences",
                        headers={
                            "Authorization": f"Bearer {landlord}",
                            "Idempotency-Key": str(uuid.uuid4()),
                        },
                        json={
                            "id_number": number,
                            "name": NAME,
                            "room_no": room,
                            "moved_in_on": today,
                        },
                    )
                    for room in rooms
                )
            )

    with running(registration):
        register_grid(registration, grid)
        response = registration.call(
            "POST",
            "/properties",
            landlord,
            json={
                "address": "Race Road 8",
                "grid_id": grid,
                "landlord_id": "L-IT",
                "rooms": [{"room_no": room, "capacity": 2} for room in rooms],
            },
        )
        assert response.status_code == 201, response.text
        property_id = response.json()["property_id"]

        responses = asyncio.run(declare_all(registration.url, property_id))
        assert [r.status_code for r in responses] == [201] * len(rooms), [
            r.text for r in responses if r.status_code != 201
        ]
        refs = {r.json()["person_ref"] for r in responses}
        assert len(refs) == 1
        (person_ref,) = refs

        # One record, registered once; each later move-in ended the one before it.
        (registered,) = asyncio.run(read_topic(kafka, TOPIC, key=person_ref, expect=1))
        assert dict(registered.headers)["ce_type"] == b"registration.PersonRegistered.v1"
        building = registration.call(
            "GET", f"/properties/{property_id}", token("officer", grids=[grid])
        ).json()
        assert [r["person_ref"] for r in building["residences"]] == [person_ref]
