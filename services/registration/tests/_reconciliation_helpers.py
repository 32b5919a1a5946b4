"""Helpers of the reconciliation tests: feed callers, entries, lists, verifications."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import httpx
from _registration_helpers import NOW, Record, Registration, id_number
from faststream.kafka import KafkaMessage

from common.envelope import Envelope
from common.inbox import raw_body
from registration.upstream.inspection import VerificationCompleted, VerificationOutcome

FEED = "feeds.access-control"
FEED_DLQ = "feeds.access-control.dlq"
YESTERDAY = NOW - timedelta(days=1)


def person(seq: int) -> str:
    """A distinct valid identity number per ``seq`` (0..999)."""
    return id_number(f"44030619900101{seq:03d}")


def system(svc: Registration) -> dict[str, str]:
    """The feed gateway's token: role system, scope feeds:write."""
    return svc.auth("system", scopes=("feeds:write",), sub="feed-gateway")


def entry(
    property_id: str,
    number: str | None = None,
    *,
    at: datetime | str = NOW,
    device: str | None = None,
    face: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "device_id": device or f"D-{property_id}"[:100],  # a device is at one building
        "property_id": property_id,
        "direction": "in",
        "at": at if isinstance(at, str) else at.isoformat(),
    }
    if face is not None:
        body["face_token"] = face
    else:
        body["id_number"] = number or person(1)
    return {**body, **overrides}


def sightings_of(
    property_id: str, number: str, days: Iterable[datetime] = (YESTERDAY, NOW, NOW)
) -> list[dict[str, Any]]:
    """Entries of one person at one property, one per instant (distinct instants)."""
    return [entry(property_id, number, at=at + timedelta(minutes=i)) for i, at in enumerate(days)]


async def post_entries(
    svc: Registration,
    entries: list[dict[str, Any]],
    *,
    headers: dict[str, str] | None = None,
    key: str | None = None,
) -> httpx.Response:
    return await svc.client.post(
        "/feeds/access-control/entries",
        json={"entries": entries},
        headers={**(headers or system(svc)), "Idempotency-Key": key or str(uuid.uuid4())},
    )


def csv_of(rows: Iterable[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("id_number", "name", "address", "property_id"))
    writer.writerows(rows)
    return out.getvalue()


async def post_list(
    svc: Registration,
    text: str,
    headers: dict[str, str] | None = None,
    *,
    key: str | None = None,
    content_type: str = "text/csv",
) -> httpx.Response:
    return await svc.client.post(
        "/feeds/five-elements/lists",
        content=text.encode(),
        headers={
            **(headers or system(svc)),
            "Idempotency-Key": key or str(uuid.uuid4()),
            "Content-Type": content_type,
        },
    )


async def new_property(
    svc: Registration, *, grid_id: str = "G1", address: str | None = None, landlord: str = "L1"
) -> str:
    body = {
        "address": address or f"{uuid.uuid4().hex[:6]} Wentang Road",
        "grid_id": grid_id,
        "landlord_id": landlord,
        "rooms": [{"room_no": "101", "capacity": 2}, {"room_no": "102", "capacity": 2}],
    }
    response = await svc.client.post(
        "/properties",
        json=body,
        headers={**svc.landlord(landlord), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    await svc.drain()  # the address index is fed by PropertyRegistered
    return str(response.json()["property_id"])


def bodies(svc: Registration, name: str) -> list[dict[str, Any]]:
    return [
        json.loads(r.body)
        for r in svc.relayed()
        if r.headers["ce_type"] == f"registration.{name}.v1"
    ]


def records(svc: Registration, name: str) -> list[Record]:
    return [r for r in svc.relayed() if r.headers["ce_type"] == f"registration.{name}.v1"]


async def publish_entries(svc: Registration, entries: list[dict[str, Any]]) -> None:
    """Entries as the door systems send them: plain JSON, key = property id."""
    for e in entries:
        await svc.runtime.broker.publish(
            json.dumps(e).encode(), FEED, key=str(e.get("property_id", "")).encode()
        )


async def record_topic(svc: Registration, topic: str) -> list[bytes]:
    """Bodies published to ``topic`` from now on (a subscriber added to the running broker)."""
    seen: list[bytes] = []
    sub = svc.runtime.broker.subscriber(topic, group_id=f"test-{topic}", decoder=raw_body)

    async def record(body: bytes, _msg: KafkaMessage) -> None:
        seen.append(body)

    sub(record)
    await sub.start()
    return seen


def verification(lead: dict[str, Any], outcome: str, **overrides: Any) -> VerificationCompleted:
    values: dict[str, Any] = {
        "verification_id": f"V-{uuid.uuid4().hex[:10]}",
        "lead_id": lead["lead_id"],
        "property_id": lead["property_id"],
        "outcome": VerificationOutcome(outcome),
        "verified_at": NOW,
        "officer_id": "officer-7",
        **overrides,
    }
    return VerificationCompleted(**values)


async def publish_verification(
    svc: Registration, event: VerificationCompleted, ce_id: str | None = None
) -> None:
    envelope = Envelope(
        type=event.ce_type(),
        source="/services/inspection",
        subject=event.subject(),
        time=NOW,
        id=ce_id or str(uuid.uuid4()),
    )
    await svc.runtime.broker.publish(
        event.to_json(),
        event.topic,
        key=event.subject().encode(),
        headers={k: v.decode() for k, v in envelope.headers()},
    )
    await svc.drain()
