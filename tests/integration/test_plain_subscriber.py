"""examples/subscriber.py, a subscriber written with aiokafka, jsonschema and schemas/ only,
follows what the real service publishes: every record validates against the schema its
``ce_type`` names, on real Kafka and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from aiokafka import AIOKafkaConsumer

from registration.domain.credit_code import with_check_character
from registration.events import TOPIC
from tests.integration.services import (
    REPO,
    ServiceProcess,
    identity_number,
    produce,
    read_topic,
    running,
    token,
)

pytestmark = pytest.mark.integration

SUBSCRIBER = REPO / "examples" / "subscriber.py"
NAME, PHONE = "Zhao Liu", "13912345678"


async def start_group_at_the_end(bootstrap: str, group_id: str) -> None:
    """Commit ``group_id``'s offsets at the topic's current end, as a subscriber that
    joined before these declarations would have: it reads them, and nothing older (the
    topic holds other tests' records, poison messages among them)."""
    consumer = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="latest",
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment():
            assert time.monotonic() < deadline, "no partitions assigned in 30 s"
            await consumer.getmany(timeout_ms=200)
        await consumer.commit({tp: await consumer.position(tp) for tp in consumer.assignment()})
    finally:
        await consumer.stop()


def declare_a_little_of_everything(service: ServiceProcess, number: str) -> dict[str, str]:
    """A grid, a property, a move-in and move-out, an employer and a hire, through the API."""
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    landlord_id = f"L-{uuid.uuid4().hex[:6]}"
    admin, landlord = token("admin", grids=[grid]), token("landlord", party_id=landlord_id)

    def ok(method: str, path: str, bearer: str, body: dict[str, object]) -> dict[str, str]:
        response = service.call(method, path, bearer, json=body)
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        result: dict[str, str] = response.json()
        return result

    ok("POST", "/grids", admin, {"grid_id": grid, "name": "Plain grid", "community": "Wentang"})
    property_id = ok(
        "POST",
        "/properties",
        landlord,
        {
            "address": "No. 7, Lane 2, Wentang Village, Dongcheng Subdistrict, Dongguan",
            "grid_id": grid,
            "landlord_id": landlord_id,
            "rooms": [{"room_no": "101", "capacity": 2}],
        },
    )["property_id"]
    moved_in = date.today() - timedelta(days=10)
    residence = ok(
        "POST",
        f"/properties/{property_id}/residences",
        landlord,
        {"id_number": number, "name": NAME, "phone": PHONE, "room_no": "101",
         "moved_in_on": moved_in.isoformat()},
    )  # fmt: skip
    ok(
        "POST",
        f"/properties/{property_id}/residences/{residence['residence_id']}/end",
        landlord,
        {"moved_out_on": date.today().isoformat()},
    )
    credit_code = with_check_character("91441900MA" + uuid.uuid4().hex[:7].upper())
    employer = token("employer", party_id=credit_code)
    employer_id = ok(
        "POST",
        "/employers",
        employer,
        {"credit_code": credit_code, "name": "Plain Subscriber Electronics", "grid_id": grid,
         "address": "9 Industrial Road, Wentang, Dongguan"},
    )["employer_id"]  # fmt: skip
    ok(
        "POST",
        f"/employers/{employer_id}/employments",
        employer,
        {"id_number": number, "name": NAME, "phone": PHONE, "hired_on": moved_in.isoformat()},
    )
    return {
        "grid": grid,
        "property": property_id,
        "employer": employer_id,
        "person": residence["person_ref"],
    }


def test_a_plain_subscriber_validates_every_event_the_service_publishes(
    registration: ServiceProcess, kafka: str
) -> None:
    group_id = f"plain-subscriber-{uuid.uuid4().hex[:8]}"
    asyncio.run(start_group_at_the_end(kafka, group_id))
    number = identity_number(700 + uuid.uuid4().int % 300)
    with running(registration):
        keys = declare_a_little_of_everything(registration, number)
        # Wait until the relay has published the last event of each aggregate.
        by_property = asyncio.run(read_topic(kafka, TOPIC, key=keys["property"], expect=3))
        assert len(by_property) == 3
        assert len(asyncio.run(read_topic(kafka, TOPIC, key=keys["employer"], expect=2))) == 2
    # A redelivery (same ce_id), as an at-least-once producer may send after a crash.
    again = by_property[1]
    asyncio.run(produce(kafka, [(TOPIC, again.key, again.value, list(again.headers))]))

    result = subprocess.run(
        [sys.executable, str(SUBSCRIBER), "--bootstrap-servers", kafka, "--group-id", group_id,
         "--idle-timeout", "5", "--timeout", "60"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 0, report
    summary = json.loads(result.stderr.strip().splitlines()[-1])
    lines = result.stdout.splitlines()
    assert (summary["invalid"], summary["unknown"], summary["duplicate"]) == (0, 0, 1), report
    assert summary["valid"] == len(lines) - 1, report
    (duplicate,) = [line for line in lines if line.startswith("duplicate ")]
    assert duplicate.split()[1] == "registration.ResidenceDeclared.v1", report

    by_key = Counter(
        (line.split()[1], line.split()[2].removeprefix("key="))
        for line in lines
        if line.startswith("valid ")
    )
    assert by_key == {
        ("registration.GridRegistered.v1", keys["grid"]): 1,
        ("registration.PropertyRegistered.v1", keys["property"]): 1,
        ("registration.ResidenceDeclared.v1", keys["property"]): 1,
        ("registration.ResidenceEnded.v1", keys["property"]): 1,
        ("registration.PersonRegistered.v1", keys["person"]): 1,
        ("registration.EmployerRegistered.v1", keys["employer"]): 1,
        ("registration.EmploymentDeclared.v1", keys["employer"]): 1,
    }, report
    # What the subscriber saw is the public topic: the person is a pseudonym there.
    assert number not in result.stdout and NAME not in result.stdout
