"""Access-control entries over HTTP and Kafka: validation, pseudonymisation, deduplication."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from _reconciliation_helpers import (
    FEED,
    FEED_DLQ,
    YESTERDAY,
    entry,
    person,
    post_entries,
    publish_entries,
    record_topic,
    system,
)
from _registration_helpers import NOW, Registration

from common.clock import FakeClock
from common.db import idempotency_keys
from registration.adapters.persons_tables import persons
from registration.adapters.reconciliation_tables import access_entry_keys, access_sightings

MAX_ENTRIES = 20
MAX_BYTES = 8_000


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    return {"access_batch_max_entries": MAX_ENTRIES, "access_batch_max_bytes": MAX_BYTES}


def _bad_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


async def test_valid_entries_are_applied_and_each_invalid_one_is_reported_by_index(
    registration: Registration,
) -> None:
    svc = registration
    batch = [
        entry("P-1", person(1)),  # 0 ok
        entry("P-1", _bad_check(person(2))),  # 1 id_number
        entry("P-1", person(3), direction="sideways"),  # 2 direction
        entry("P-1", person(4), at="2026-03-04T10:00:00"),  # 3 at: no offset
        entry("P-1", person(5), face_token="F-1"),  # 4 both subjects
        entry("P-1", person(6), at=(NOW + timedelta(hours=1)).isoformat()),  # 5 at: future
        entry("P-1", person(7), at=(NOW - timedelta(days=8)).isoformat()),  # 6 at: stale
        entry("P-2", face="F-77"),  # 7 ok: an unmatched face
        {"device_id": "D-1"},  # 8 fields missing
        entry("P-1", person(8), at=YESTERDAY, vendor_field="ignored"),  # 9 ok
    ]

    response = await post_entries(svc, batch)

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["received"], report["accepted"], report["rejected"]) == (10, 3, 7)
    assert (report["applied"], report["duplicates"], report["leads_opened"]) == (3, 0, 0)
    assert [(e["index"], e["field"]) for e in report["errors"]] == [
        (1, "id_number"),
        (2, "direction"),
        (3, "at"),
        (4, "entry"),
        (5, "at"),
        (6, "at"),
        (8, "property_id"),
    ]
    assert "check character" in report["errors"][0]["reason"]
    assert "exactly one of id_number and face_token" in report["errors"][3]["reason"]
    assert "future" in report["errors"][4]["reason"]
    assert "window" in report["errors"][5]["reason"]
    rows = await svc.rows(access_sightings)
    assert sorted((r.property_id, r.subject_kind, r.entries) for r in rows) == [
        ("P-1", "id", 1),
        ("P-1", "id", 1),
        ("P-2", "face", 1),
    ]


async def test_the_identity_number_is_stored_only_as_the_keyed_hash_persons_use(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    number = person(11)
    declared = await svc.declare(property_id, id_number=number)
    assert declared.status_code == 201, declared.text

    response = await post_entries(svc, [entry(property_id, number), entry("P-9", person(12))])

    assert response.status_code == 200, response.text
    assert number not in response.text
    (registered,) = await svc.rows(persons)
    rows = await svc.rows(access_sightings)
    assert {r.subject_hash for r in rows} == {
        registered.id_hash,
        svc.cipher.keyed_hash(person(12)),
    }
    stored = svc.db_path.read_bytes() + b"".join(  # the database and its write-ahead log
        p.read_bytes() for p in svc.db_path.parent.glob("reg.db-*")
    )
    for value in (number, person(12)):
        assert value.encode() not in stored


async def test_the_same_entry_sent_again_is_counted_once(registration: Registration) -> None:
    svc = registration
    batch = [entry("P-1", person(1)), entry("P-1", person(1), at=NOW - timedelta(minutes=5))]

    first = await post_entries(svc, batch)
    again = await post_entries(svc, [*batch, batch[0]])  # another key, the same entries

    assert (first.json()["applied"], first.json()["duplicates"]) == (2, 0)
    assert (again.json()["applied"], again.json()["duplicates"]) == (0, 3)
    (row,) = await svc.rows(access_sightings)
    assert row.entries == 2
    assert await svc.count(access_entry_keys) == 2


async def test_a_retry_with_the_same_idempotency_key_replays_the_report(
    registration: Registration,
) -> None:
    svc = registration
    batch = [entry("P-1", person(1))]

    first = await post_entries(svc, batch, key="batch-1")
    again = await post_entries(svc, batch, key="batch-1")
    other = await post_entries(svc, [entry("P-1", person(2))], key="batch-1")

    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422
    (row,) = await svc.rows(access_sightings)
    assert row.entries == 1


async def test_too_many_entries_or_bytes_is_413_and_nothing_is_applied(
    registration: Registration,
) -> None:
    svc = registration

    many = await post_entries(svc, [entry("P-1", person(i)) for i in range(MAX_ENTRIES + 1)])
    large = await post_entries(svc, [entry("P-1", person(1), device="D" * 100)] * 60)

    assert many.status_code == 413
    assert f"at most {MAX_ENTRIES} entries" in many.text
    assert large.status_code == 413
    assert f"at most {MAX_BYTES} bytes" in large.text
    assert await svc.count(access_sightings) == 0
    assert await svc.count(idempotency_keys) == 0


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"not json", "is not JSON"),
        (b'[{"device_id": "D-1"}]', "entries"),
        (b'{"entries": []}', "empty"),
    ],
    ids=["not-json", "not-an-object", "empty"],
)
async def test_a_malformed_batch_is_422(
    registration: Registration, content: bytes, where: str
) -> None:
    svc = registration

    response = await svc.client.post(
        "/feeds/access-control/entries",
        content=content,
        headers={
            **system(svc),
            "Idempotency-Key": "k",
            "Content-Type": "application/json",
        },
    )

    assert response.status_code == 422
    assert where in response.text


async def test_a_batch_with_no_valid_entry_is_422_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration

    response = await post_entries(svc, [entry("P-1", _bad_check(person(1)))])

    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "entries", 0, "id_number"]
    assert await svc.count(access_sightings) == 0
    assert await svc.count(idempotency_keys) == 0


async def test_only_a_system_with_feeds_write_may_post_entries(registration: Registration) -> None:
    svc = registration
    callers = {
        "landlord": svc.landlord(),
        "officer": svc.auth("officer", scopes=("feeds:write",), grids=("G1",)),
        "system without scope": svc.auth("system", scopes=("registration:write",)),
    }

    responses = {
        who: await post_entries(svc, [entry("P-1", person(1))], headers=headers)
        for who, headers in callers.items()
    }
    anonymous = await svc.client.post(
        "/feeds/access-control/entries",
        json={"entries": [entry("P-1")]},
        headers={"Idempotency-Key": "k"},
    )

    assert {who: r.status_code for who, r in responses.items()} == dict.fromkeys(callers, 403)
    assert anonymous.status_code == 401
    assert await svc.count(access_sightings) == 0


async def test_entries_from_kafka_are_aggregated_per_person_property_and_day(
    registration: Registration,
) -> None:
    svc = registration
    entries = [
        entry("P-1", person(1), at=NOW - timedelta(hours=2)),
        entry("P-1", person(1), at=NOW - timedelta(hours=1), device="D-2"),
        entry("P-1", person(1), at=YESTERDAY),
        entry("P-1", person(1), at=NOW - timedelta(hours=2)),  # redelivered: counted once
    ]

    await publish_entries(svc, entries)

    rows = sorted(await svc.rows(access_sightings), key=lambda r: r.day)
    assert [(str(r.day), r.entries) for r in rows] == [("2026-03-03", 1), ("2026-03-04", 2)]
    assert rows[1].first_seen.replace(tzinfo=None) == (NOW - timedelta(hours=2)).replace(
        tzinfo=None
    )
    assert rows[1].last_seen.replace(tzinfo=None) == (NOW - timedelta(hours=1)).replace(tzinfo=None)


async def test_invalid_kafka_entries_go_to_the_dead_letter_topic_and_the_rest_apply(
    registration: Registration,
) -> None:
    svc = registration
    dead = await record_topic(svc, FEED_DLQ)

    await svc.runtime.broker.publish(b"{not json", FEED, key=b"P-1")
    await publish_entries(svc, [entry("P-1", _bad_check(person(1))), entry("P-1", person(2))])

    assert len(dead) == 2
    assert json.loads(dead[1])["property_id"] == "P-1"  # the record as it came
    (row,) = await svc.rows(access_sightings)
    assert row.subject_hash == svc.cipher.keyed_hash(person(2))
    assert FEED + ".dlq" == FEED_DLQ


async def test_entry_keys_are_forgotten_after_the_window_and_sightings_after_retention(
    registration: Registration, clock: FakeClock
) -> None:
    svc = registration
    await post_entries(svc, [entry("P-1", person(1)), entry("P-1", person(2), at=YESTERDAY)])
    assert await svc.count(access_entry_keys) == 2

    clock.advance(timedelta(days=6))  # the window is 4..10 March: yesterday's entry is out
    await post_entries(svc, [entry("P-1", person(3), at=clock.now())])

    assert [str(r.day) for r in await svc.rows(access_entry_keys)] == ["2026-03-04", "2026-03-10"]
    assert await svc.count(access_sightings) == 3  # kept for SIGHTINGS_RETENTION_DAYS (90)

    clock.advance(timedelta(days=91))
    await post_entries(svc, [entry("P-1", person(4), at=clock.now())])

    assert [str(r.day) for r in await svc.rows(access_sightings)] == ["2026-06-09"]
