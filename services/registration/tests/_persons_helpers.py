"""Helpers of the persons and residence tests: corrections, move-outs, findings, persons' tokens."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx
from _registration_helpers import NOW, Record, Registration, id_number

from common.envelope import Envelope
from registration.upstream.inspection import FINDINGS_TOPIC, OccupantFound

OTHER_ID = id_number("51010719850615002")  # female, born 1985-06-15, Chengdu
THIRD_ID = id_number("11010519770312001")  # male, born 1977-03-12, Beijing


def derived_ref(svc: Registration, number: str) -> str:
    """The ref the office's identity provider gives a person (keyed hash of the number)."""
    return "P" + svc.cipher.keyed_hash(number)[:23]


def person_token(svc: Registration, party_id: str) -> dict[str, str]:
    return svc.auth("person", party_id=party_id, sub=f"person-{party_id}")


def staff(svc: Registration, *scopes: str) -> dict[str, str]:
    return svc.auth("officer", scopes=scopes, grids=("G1",), sub="officer-G1")


async def correct(
    svc: Registration,
    person_ref: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    key: str = "correction-1",
) -> httpx.Response:
    return await svc.client.patch(
        f"/persons/{person_ref}",
        json=body,
        headers={**(headers or staff(svc, "pii:write")), "Idempotency-Key": key},
    )


async def move_out(
    svc: Registration,
    property_id: str,
    residence_id: str,
    headers: dict[str, str] | None = None,
    *,
    key: str = "move-out-1",
    **body: Any,
) -> httpx.Response:
    return await svc.client.post(
        f"/properties/{property_id}/residences/{residence_id}/end",
        json={"moved_out_on": "2026-03-03", **body},
        headers={**(headers or svc.landlord()), "Idempotency-Key": key},
    )


def finding(property_id: str, **overrides: Any) -> OccupantFound:
    values: dict[str, Any] = {
        "finding_id": f"F-{uuid.uuid4().hex[:8]}",
        "property_id": property_id,
        "room_no": "101",
        "id_number": id_number(),
        "full_name": "王小明",
        "phone": "13800138000",
        "found_at": datetime(2026, 3, 4, 2, 0, tzinfo=NOW.tzinfo),
        "officer_id": "officer-7",
        **overrides,
    }
    return OccupantFound(**values)


async def publish_finding(
    svc: Registration, event: OccupantFound, *, ce_id: str | None = None
) -> None:
    envelope = Envelope(
        type=event.ce_type(),
        source="/services/inspection",
        subject=event.subject(),
        id=ce_id or str(uuid.uuid4()),
    )
    await svc.runtime.broker.publish(
        event.to_json(),
        FINDINGS_TOPIC,
        key=event.subject().encode(),
        headers={k: v.decode() for k, v in envelope.headers()},
    )


def bodies(records: list[Record]) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in records]
