"""Helpers of the places, agreements and base-figures tests, on top of Registration."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from _registration_helpers import NOW, Registration

from common.envelope import Envelope
from common.timers import TimerWorker
from registration.domain.credit_code import with_check_character
from registration.upstream.inspection import DiscoveredRoom, PropertyDiscovered

MANAGER_CODE = with_check_character("91441900MA4X00001")  # a property company (物業)
OFFICE = "Wentang community police office"


def admin(svc: Registration) -> dict[str, str]:
    return svc.auth("admin")


def staff(svc: Registration, *grids: str, role: str = "officer") -> dict[str, str]:
    return svc.auth(role, grids=grids or ("G1",))


async def post(
    svc: Registration, path: str, body: Any, headers: dict[str, str], key: str | None = None
) -> httpx.Response:
    return await svc.client.post(
        path, json=body, headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())}
    )


async def register_grid(
    svc: Registration,
    grid_id: str = "G1",
    *,
    community: str = "Wentang",
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> httpx.Response:
    body = {
        "grid_id": grid_id,
        "name": f"Grid {grid_id}",
        "community": community,
        "grid_worker": f"worker-{grid_id}",
        **overrides,
    }
    return await post(svc, "/grids", body, headers or admin(svc))


async def register_company(svc: Registration, code: str = MANAGER_CODE) -> str:
    response = await post(
        svc,
        "/parties",
        {"kind": "organisation", "credit_code": code, "name": "Wentang Property Services Ltd."},
        staff(svc),
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["party_id"])


async def assign_manager(
    svc: Registration,
    property_id: str,
    party_id: str,
    headers: dict[str, str] | None = None,
    kind: str = "property_company",
) -> httpx.Response:
    return await post(
        svc,
        f"/properties/{property_id}/managers",
        {"party_id": party_id, "kind": kind},
        headers or svc.landlord(),
    )


def agreement_body(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "landlord",
        "counterpart_office": OFFICE,
        "signed_on": "2026-03-01",
        "valid_from": "2026-03-01",
        "valid_until": "2027-02-28",
        **overrides,
    }


async def sign(
    svc: Registration, headers: dict[str, str] | None = None, **overrides: Any
) -> httpx.Response:
    return await post(svc, "/agreements", agreement_body(**overrides), headers or staff(svc))


async def signed(svc: Registration, **overrides: Any) -> dict[str, Any]:
    response = await sign(svc, **overrides)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def bodies(svc: Registration, ce_type: str) -> list[dict[str, Any]]:
    return [
        json.loads(r.body)
        for r in svc.relayed()
        if r.headers["ce_type"] == f"registration.{ce_type}"
    ]


def worker(svc: Registration, clock: Any) -> TimerWorker:
    return TimerWorker(svc.runtime.sessionmaker, svc.runtime.timer_handlers, clock, postgres=False)


def discovery(**overrides: Any) -> PropertyDiscovered:
    values: dict[str, Any] = {
        "discovery_id": f"D-{uuid.uuid4().hex[:12]}",
        "sweep_id": "SWEEP-2026-03-G1",
        "grid_id": "G1",
        "address": "7 Wentang Back Lane",
        "rooms": [DiscoveredRoom(room_no="1F", capacity_estimate=4)],
        "landlord_hint": "L9",
        "discovered_at": datetime(2026, 3, 3, 21, 30, tzinfo=UTC),
        "officer": "officer-sweep-1",
        **overrides,
    }
    return PropertyDiscovered(**values)


def discovery_headers(event: PropertyDiscovered, ce_id: str | None = None) -> dict[str, str]:
    envelope = Envelope(
        type=event.ce_type(),
        source="/services/inspection",
        subject=event.subject(),
        time=NOW,
        correlation_id="corr-sweep",
    )
    headers = {k: v.decode() for k, v in envelope.headers()}
    if ce_id is not None:
        headers["ce_id"] = ce_id
    return headers


async def publish_discovery(
    svc: Registration, event: PropertyDiscovered, ce_id: str | None = None
) -> None:
    await svc.runtime.broker.publish(
        event.to_json(),
        event.topic,
        key=event.subject().encode(),
        headers=discovery_headers(event, ce_id),
    )
