"""Employment on real Kafka and PostgreSQL: a 2,000-line roster through HTTP to the topic."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import date, timedelta

import httpx
import pytest

from common.identity import check_character
from registration.domain.credit_code import with_check_character
from registration.events import TOPIC
from tests.integration.services import ServiceProcess, read_topic, register_grid, running, token

pytestmark = pytest.mark.integration

ROWS = 2000


def worker_id(seq: int) -> str:
    born = date(1985, 1, 1) + timedelta(days=seq // 500)
    first17 = f"441900{born:%Y%m%d}{seq % 500:03d}"
    return first17 + check_character(first17)


def worker_name(seq: int) -> str:
    return f"Worker{seq:05d}"


def roster(rows: int, hired_on: date) -> bytes:
    lines = ["action,id_number,name,phone,date"]
    lines += [
        f"hire,{worker_id(i)},{worker_name(i)},139{i:08d},{hired_on.isoformat()}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_roster_of_2000_hires_is_applied_and_published_keyed_by_the_employer(
    registration: ServiceProcess, kafka: str
) -> None:
    # A fresh code per run (hex digits and A-F are all in the GB 32100 alphabet).
    credit_code = with_check_character("91441900MA" + uuid.uuid4().hex[:7].upper())
    bearer = token("employer", party_id=credit_code)
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    with running(registration):
        register_grid(registration, grid)
        created = registration.call(
            "POST",
            "/employers",
            bearer,
            json={
                "credit_code": credit_code,
                "name": "Integration Electronics",
                "grid_id": grid,
                "address": "1 Test Road",
            },
        )
        assert created.status_code == 201, created.text
        employer_id = created.json()["employer_id"]
        content = roster(ROWS, date.today() - timedelta(days=1))
        headers = {
            "Authorization": f"Bearer {bearer}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "text/csv",
        }

        started = time.perf_counter()
        response = httpx.post(
            f"{registration.url}/employers/{employer_id}/roster",
            content=content,
            headers=headers,
            timeout=120,
        )
        elapsed = time.perf_counter() - started

        assert response.status_code == 201, response.text
        report = response.json()
        assert (report["rows"], report["applied"], report["rejected"]) == (ROWS, ROWS, 0)
        print(f"\nroster upload of {ROWS} rows: {elapsed:.2f} s (HTTP round trip)")

        again = httpx.post(
            f"{registration.url}/employers/{employer_id}/roster",
            content=content,
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            timeout=120,
        )
        assert again.status_code == 200, again.text
        assert again.json()["already_applied"] is True

        records = asyncio.run(read_topic(kafka, TOPIC, key=employer_id, expect=ROWS + 1, wait_s=90))

    types = [dict(r.headers)["ce_type"].decode() for r in records]
    assert types[0] == "registration.EmployerRegistered.v1"
    assert types[1:] == ["registration.EmploymentDeclared.v1"] * ROWS
    assert len(records) == ROWS + 1  # the repeated upload published nothing
    assert {r.key for r in records} == {employer_id.encode()}
    assert len({r.partition for r in records}) == 1
    bodies = [json.loads(r.value) for r in records[1:]]
    assert len({b["person_ref"] for b in bodies}) == ROWS
    assert all(b["via_roster"] and b["employer_id"] == employer_id for b in bodies)
    everything = b"\n".join(r.value for r in records).decode()
    for i in range(ROWS):
        assert worker_id(i) not in everything
        assert worker_name(i) not in everything
        assert f"139{i:08d}" not in everything
