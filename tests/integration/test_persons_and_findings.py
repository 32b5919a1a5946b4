"""Occupants found by officers, and who sees a person's identity: on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime

import pytest

from common.envelope import Envelope
from registration.events import PERSONS_TOPIC, TOPIC
from registration.upstream import FINDINGS_TOPIC, OccupantFound
from tests.integration.services import (
    ServiceProcess,
    identity_number,
    produce,
    read_topic,
    running,
    token,
)

pytestmark = pytest.mark.integration

NAME, PHONE = "Li Si", "13712345678"


def register_property(service: ServiceProcess, grid: str) -> str:
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
        by_property = asyncio.run(read_topic(kafka, TOPIC, key=property_id, expect=2))
        types = [dict(r.headers)["ce_type"].decode() for r in by_property]
        assert types == ["registration.PropertyRegistered.v1", "registration.ResidenceDeclared.v1"]
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
