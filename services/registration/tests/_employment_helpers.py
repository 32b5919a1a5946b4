"""Helpers of the employment tests: credit codes, callers and commands on top of Registration."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
from _registration_helpers import Registration, id_number

from common.identity import check_character
from registration.domain.credit_code import with_check_character

CREDIT_CODE = with_check_character("91441900MA4W12345")  # an enterprise in Dongguan
OTHER_CREDIT_CODE = with_check_character("91441900MA4W54321")


def worker_id(seq: int) -> str:
    """A distinct valid identity number per ``seq`` (born on a different day from 1990)."""
    born = date(1990, 1, 1) + timedelta(days=seq // 500)
    first17 = f"441900{born:%Y%m%d}{seq % 500:03d}"
    return first17 + check_character(first17)


def employer(svc: Registration, credit_code: str = CREDIT_CODE) -> dict[str, str]:
    """The employer's own account: role employer, party_id = its credit code."""
    return svc.auth("employer", party_id=credit_code)


async def register_employer(
    svc: Registration,
    headers: dict[str, str] | None = None,
    *,
    key: str = "employer-key-1",
    **overrides: Any,
) -> httpx.Response:
    body = {
        "credit_code": CREDIT_CODE,
        "name": "Wentang Precision Electronics Co., Ltd.",
        "grid_id": "G1",
        "address": "8 Industrial Road, Wentang",
        **overrides,
    }
    return await svc.client.post(
        "/employers",
        json=body,
        headers={**(headers or employer(svc, body["credit_code"])), "Idempotency-Key": key},
    )


async def new_employer(svc: Registration, **kw: Any) -> str:
    response = await register_employer(svc, **kw)
    assert response.status_code == 201, response.text
    return str(response.json()["employer_id"])


async def hire(
    svc: Registration,
    employer_id: str,
    headers: dict[str, str] | None = None,
    *,
    key: str = "hire-key-1",
    **overrides: Any,
) -> httpx.Response:
    body = {
        "id_number": id_number(),
        "name": "王小明",
        "phone": "13800138000",
        "hired_on": "2026-03-02",
        **overrides,
    }
    return await svc.client.post(
        f"/employers/{employer_id}/employments",
        json=body,
        headers={**(headers or employer(svc)), "Idempotency-Key": key},
    )


async def leave(
    svc: Registration,
    employer_id: str,
    employment_id: str,
    headers: dict[str, str] | None = None,
    *,
    key: str = "leave-key-1",
    left_on: str = "2026-03-03",
) -> httpx.Response:
    return await svc.client.post(
        f"/employers/{employer_id}/employments/{employment_id}/end",
        json={"left_on": left_on},
        headers={**(headers or employer(svc)), "Idempotency-Key": key},
    )


def csv_of(rows: list[tuple[str, ...]]) -> bytes:
    lines = ["action,id_number,name,phone,date", *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


async def upload(
    svc: Registration,
    employer_id: str,
    content: bytes,
    headers: dict[str, str] | None = None,
    *,
    key: str = "roster-key-1",
    content_type: str = "text/csv",
) -> httpx.Response:
    return await svc.client.post(
        f"/employers/{employer_id}/roster",
        content=content,
        headers={
            **(headers or employer(svc)),
            "Idempotency-Key": key,
            "Content-Type": content_type,
        },
    )


async def file_return(
    svc: Registration,
    employer_id: str,
    headers: dict[str, str] | None = None,
    *,
    key: str = "return-key-1",
    **overrides: Any,
) -> httpx.Response:
    body = {"month": "2026-03", "headcount": 12, "hires": 3, "leavers": 1, **overrides}
    return await svc.client.post(
        f"/employers/{employer_id}/returns",
        json=body,
        headers={**(headers or employer(svc)), "Idempotency-Key": key},
    )


def bodies(svc: Registration, ce_type: str) -> list[dict[str, Any]]:
    """Relayed event bodies of one type, in order."""
    return [
        json.loads(r.body)
        for r in svc.relayed()
        if r.headers["ce_type"] == f"registration.{ce_type}"
    ]
