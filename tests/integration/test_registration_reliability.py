"""The declaration path and its failure modes, on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from common.db import inbox, outbox
from common.envelope import Envelope
from registration.entrypoints.figures_consumers import FIGURES_GROUP
from registration.events import TOPIC
from tests.integration.services import (
    ServiceProcess,
    event_record,
    identity_number,
    produce,
    read_topic,
    register_grid,
    registration_env,
    residence_event,
    running,
    token,
)

pytestmark = pytest.mark.integration

MONTH = datetime.now(UTC).strftime("%Y-%m")


def new_grid() -> str:
    return f"IT-{uuid.uuid4().hex[:8]}"


def figures(service: ServiceProcess, grid: str) -> dict[str, object]:
    response = service.call(
        "GET", f"/figures/grids/{grid}?month={MONTH}", token("officer", grids=[grid])
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def wait_for_declarations(
    service: ServiceProcess, grid: str, expected: int, timeout: float = 60.0
) -> int:
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        seen = int(figures(service, grid)["declarations"])  # type: ignore[arg-type]
        if seen >= expected:
            return seen
        time.sleep(0.2)
    return seen


def declare(service: ServiceProcess, grid: str, seq: int = 1) -> tuple[str, dict[str, object]]:
    register_grid(service, grid)
    landlord = token("landlord", party_id="L-IT")
    prop = service.call(
        "POST",
        "/properties",
        landlord,
        json={
            "address": f"Integration Road {seq}",
            "grid_id": grid,
            "landlord_id": "L-IT",
            "rooms": [{"room_no": "101", "capacity": 4}],
        },
    )
    assert prop.status_code == 201, prop.text
    property_id = prop.json()["property_id"]
    moved = service.call(
        "POST",
        f"/properties/{property_id}/residences",
        landlord,
        json={
            "id_number": identity_number(seq),
            "name": "Zhang San",
            "phone": "13912345678",
            "room_no": "101",
            "moved_in_on": date.today().isoformat(),
        },
    )
    assert moved.status_code == 201, moved.text
    return property_id, moved.json()


async def scalar(url: str, query: object) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        await engine.dispose()


def assert_roundtrip(service: ServiceProcess, bootstrap: str) -> None:
    grid = new_grid()
    property_id, residence = declare(service, grid)
    assert wait_for_declarations(service, grid, 1) == 1
    records = asyncio.run(read_topic(bootstrap, TOPIC, key=property_id, expect=2))
    types = [dict(r.headers)["ce_type"].decode() for r in records]
    assert types == ["registration.PropertyRegistered.v1", "registration.ResidenceDeclared.v1"]
    declared = records[1]
    envelope = Envelope.from_headers(declared.headers)
    assert envelope.source == "/services/registration"
    assert declared.key == property_id.encode()
    body = json.loads(declared.value)
    assert body["person_ref"] == residence["person_ref"]
    raw = declared.value.decode()
    assert identity_number(1) not in raw and "Zhang San" not in raw and "13912345678" not in raw


def test_declaration_travels_http_outbox_kafka_consumer(
    registration: ServiceProcess, kafka: str
) -> None:
    with running(registration):
        assert_roundtrip(registration, kafka)


def test_declaration_roundtrip_on_the_embedded_broker(tansu: str, tmp_path: Path) -> None:
    env = registration_env(
        tansu, f"sqlite+aiosqlite:///{tmp_path}/registration.db", idempotent=False
    )
    service = ServiceProcess("registration", env, tmp_path)
    service.migrate()
    with running(service):
        assert_roundtrip(service, tansu)


def test_consumer_killed_mid_stream_applies_every_event_exactly_once(
    registration: ServiceProcess, kafka: str, pg_url: str
) -> None:
    grid, total = new_grid(), 1000
    events = [residence_event(grid, f"prop-{grid}-{i % 50}", i) for i in range(total)]
    records = [event_record(e) for e in events]
    ce_ids = [dict(headers)["ce_id"].decode() for *_, headers in records]
    consumer = registration
    # Small batches keep a transaction and an offset commit in flight most of the time.
    only_consumer = {"REGISTRATION_RUN_RELAY": "false", "REGISTRATION_CONSUMER_BATCH_SIZE": "50"}
    consumer.start(only_consumer)
    asyncio.run(produce(kafka, records[: total // 2]))
    applied_before_kill = wait_for_declarations(consumer, grid, 100)
    consumer.kill(signal.SIGKILL)
    # The rest of the stream arrives while the consumer is dead.
    asyncio.run(produce(kafka, records[total // 2 :]))
    assert 0 < applied_before_kill < total, applied_before_kill
    consumer.start(only_consumer)
    assert wait_for_declarations(consumer, grid, total, timeout=120) == total
    time.sleep(2)  # anything redelivered after the restart has had time to arrive
    assert figures(consumer, grid)["declarations"] == total
    remembered = (
        select(func.count())
        .select_from(inbox)
        .where(inbox.c.consumer == FIGURES_GROUP, inbox.c.event_id.in_(ce_ids))
    )
    assert asyncio.run(scalar(pg_url, remembered)) == total


def test_relay_crash_between_publish_and_mark_sent_duplicate_is_skipped(
    registration: ServiceProcess, kafka: str, pg_url: str, tmp_path: Path
) -> None:
    grid = new_grid()
    api = registration
    # 1. Commands are accepted and staged while no relay runs.
    with running(api, {"REGISTRATION_RUN_RELAY": "false", "REGISTRATION_RUN_CONSUMERS": "false"}):
        property_id, _ = declare(api, grid)
    # 2. A relay publishes the five events (the grid, the property, the person registered
    #    publicly and on the restricted topic, the residence), then dies before marking
    #    them sent.
    crashing = replace(api, port=0, starts=10)
    crashing.spawn(
        {
            "REGISTRATION_FAULT_RELAY_CRASH_AFTER_PUBLISH": "true",
            "REGISTRATION_RUN_CONSUMERS": "false",
        }
    )
    assert crashing.wait_exit(timeout=30) == 97, crashing.tail()
    assert (
        asyncio.run(
            scalar(
                pg_url, select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            )
        )
        == 5
    )
    # 3. The restarted service publishes them again and its consumer applies them once
    #    (the property's four; the grid's event is keyed by the grid).
    with running(api):
        records = asyncio.run(read_topic(kafka, TOPIC, key=property_id, expect=4))
        declared = [
            r for r in records if dict(r.headers)["ce_type"] == b"registration.ResidenceDeclared.v1"
        ]
        assert len(declared) == 2
        assert dict(declared[0].headers)["ce_id"] == dict(declared[1].headers)["ce_id"]
        assert wait_for_declarations(api, grid, 1) == 1
        time.sleep(2)
        assert figures(api, grid)["declarations"] == 1
        metrics = httpx.get(f"{api.url}/metrics", timeout=10).text
        assert (
            'events_consumed_total{consumer="registration.figures",outcome="duplicate"}' in metrics
        )
    pending = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
    assert asyncio.run(scalar(pg_url, pending)) == 0


def test_poison_messages_go_to_the_dlq_and_the_partition_moves_on(
    registration: ServiceProcess, kafka: str
) -> None:
    grid, key = new_grid(), f"prop-poison-{uuid.uuid4().hex[:6]}"
    good = [residence_event(grid, key, i) for i in range(5)]
    no_headers = (TOPIC, key.encode(), b"not json at all", [])
    unknown_version = Envelope(
        type="registration.ResidenceDeclared.v9", source="/tests", subject=key
    )
    bad_body = Envelope(type="registration.ResidenceDeclared.v1", source="/tests", subject=key)
    # A ce_type that is not UTF-8 text: FastStream's own parser used to drop the whole
    # fetched batch on it (the good events around it with it).
    binary_type = [(k, b"\xff\xfe" if k == "ce_type" else v) for k, v in event_record(good[2])[3]]
    too_long_id = Envelope(
        type="registration.ResidenceDeclared.v1", source="/tests", subject=key, id="x" * 300
    )
    # A vendor's binary header beside a valid envelope is not the service's business.
    _, _, body3, headers3 = event_record(good[3])
    records = [
        event_record(good[0]),
        no_headers,
        (TOPIC, key.encode(), good[1].to_json(), unknown_version.headers()),
        (TOPIC, key.encode(), b'{"residence_id": 1}', bad_body.headers()),
        (TOPIC, key.encode(), good[2].to_json(), binary_type),
        (TOPIC, key.encode(), good[2].to_json(), too_long_id.headers()),
        *[event_record(e) for e in good[1:3]],
        (TOPIC, key.encode(), body3, [*headers3, ("x-vendor", b"\x80\x81")]),
        event_record(good[4]),
    ]
    with running(registration, {"REGISTRATION_RUN_RELAY": "false"}):
        asyncio.run(produce(kafka, records))
        assert wait_for_declarations(registration, grid, len(good)) == len(good)
        # Two of registration's consumer groups read the topic: each dead-letters the
        # five, and says which group it is.
        mine = asyncio.run(read_topic(kafka, TOPIC + ".dlq", key=key, expect=10))
        assert len(mine) == 10
        for record in mine:
            headers = dict(record.headers)
            assert headers["dlq_error"]
            assert headers["dlq_original_topic"] == TOPIC.encode()
        groups = sorted(dict(r.headers)["dlq_consumer"] for r in mine)
        assert groups == [b"registration.figures"] * 5 + [b"registration.reconciliation"] * 5
        errors = sorted(dict(r.headers)["dlq_error_type"] for r in mine)
        assert errors == [b"PoisonMessage"] * 10
        # The raw header that was not text is kept, hex-encoded, and named as such.
        hexed = [dict(r.headers) for r in mine if "dlq_hex_headers" in dict(r.headers)]
        assert len(hexed) == 2
        assert all(h["dlq_hex_headers"] == b"ce_type" and h["ce_type"] == b"fffe" for h in hexed)
