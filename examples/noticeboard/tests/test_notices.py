"""The example service end to end in-process: a command, its event, a consumed event."""

from __future__ import annotations

import json
from collections.abc import Callable

from common.events import event_class
from common.testing import Running
from noticeboard.upstream.registration import PropertyRegistered

Officer = Callable[..., dict[str, str]]


def notice(**overrides: object) -> dict[str, object]:
    return {"title": "Declare new tenants", "body": "Within three working days.",
            "until": "2026-03-31", **overrides}  # fmt: skip


async def test_a_notice_reaches_the_buildings_registration_reported(
    board: Running, officer: Officer
) -> None:
    for n in range(3):
        await board.deliver(PropertyRegistered(property_id=f"p-{n}", grid_id="WT-G05"))
    await board.deliver(PropertyRegistered(property_id="p-0", grid_id="WT-G05"))  # replayed
    await board.deliver(PropertyRegistered(property_id="p-9", grid_id="WT-G06"))

    response = await board.client.post(
        "/grids/WT-G05/notices",
        json=notice(),
        headers={**officer("WT-G05"), "Idempotency-Key": "n-1"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["buildings_reached"] == 3

    await board.drain()
    (record,) = [r for r in board.records["noticeboard.events"] if "ce_type" in r.headers]
    assert record.headers["ce_type"] == "noticeboard.NoticePosted.v1"
    assert record.key == b"WT-G05"
    assert json.loads(record.body)["buildings_reached"] == 3

    listing = await board.client.get("/grids/WT-G05/notices", headers=officer("WT-G05"))
    assert listing.json()["buildings"] == 3
    assert [n["title"] for n in listing.json()["notices"]] == ["Declare new tenants"]


async def test_a_bad_notice_is_a_422_naming_the_field_and_changes_nothing(
    board: Running, officer: Officer
) -> None:
    response = await board.client.post(
        "/grids/WT-G05/notices",
        json=notice(until="2026-12-31"),  # past the 90-day policy
        headers={**officer("WT-G05"), "Idempotency-Key": "n-2"},
    )
    assert response.status_code == 422
    assert "until" in response.text
    listing = await board.client.get("/grids/WT-G05/notices", headers=officer("WT-G05"))
    assert listing.json()["notices"] == []


async def test_another_grids_officer_is_refused(board: Running, officer: Officer) -> None:
    response = await board.client.post(
        "/grids/WT-G05/notices",
        json=notice(),
        headers={**officer("WT-G06"), "Idempotency-Key": "n-3"},
    )
    assert response.status_code == 403
    read = await board.client.get("/grids/WT-G05/notices", headers=officer("WT-G06"))
    assert read.status_code == 403


def test_the_reader_of_registrations_event_is_not_on_the_registry() -> None:
    assert event_class(PropertyRegistered.ce_type()) is not PropertyRegistered
