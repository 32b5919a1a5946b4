"""Declarations brought over from the office's previous records: an admin enters them with
when and how they were made; on time or not by that day, never as late declarations
made today (penalties leaves them alone, see its intake)."""

from __future__ import annotations

import json

from _registration_helpers import NOW, Registration

from registration.adapters.residences_tables import residences


def admin(svc: Registration) -> dict[str, str]:
    return svc.auth("admin", sub="admin-onboarding")


def migrated(declared_at: str, channel: str = "landlord_self_declaration") -> dict[str, str]:
    return {"declared_at": declared_at, "channel": channel}


async def test_an_admin_brings_over_a_declaration_on_time_by_its_own_day(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()

    response = await svc.declare(
        property_id, admin(svc), moved_in_on="2026-01-05",
        migrated=migrated("2026-01-06T02:00:00Z"),
    )  # fmt: skip
    await svc.drain()

    assert response.status_code == 201, response.text
    assert response.json()["on_time"] is True  # made on 6 January, not today (4 March)
    (row,) = await svc.rows(residences)
    assert row.channel == "landlord_self_declaration"  # as it was declared then
    assert row.declared_by == "admin-onboarding"
    assert row.declared_at.isoformat().startswith("2026-01-06T02:00")
    (record,) = svc.relayed_of("ResidenceDeclared")
    event = json.loads(record.body)
    assert event["declared_at"] == "2026-01-06T02:00:00Z"
    assert event["on_time"] is True
    assert event["migrated_at"] == NOW.isoformat().replace("+00:00", "Z")


async def test_a_record_declared_late_then_stays_late(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()

    response = await svc.declare(
        property_id, admin(svc), moved_in_on="2026-01-05",
        migrated=migrated("2026-02-20T03:00:00Z", "officer"),
    )  # fmt: skip

    assert response.status_code == 201, response.text
    assert response.json()["on_time"] is False
    (row,) = await svc.rows(residences)
    assert row.channel == "officer"


async def test_a_declaration_made_today_carries_no_migration(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()

    response = await svc.declare(property_id)
    await svc.drain()

    assert response.status_code == 201, response.text
    (record,) = svc.relayed_of("ResidenceDeclared")
    assert json.loads(record.body)["migrated_at"] is None


async def test_only_an_admin_brings_over_records(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()

    response = await svc.declare(
        property_id, moved_in_on="2026-01-05", migrated=migrated("2026-01-06T02:00:00Z")
    )

    assert response.status_code == 403, response.text
    assert await svc.state() == before


async def test_a_migrated_time_before_the_move_in_or_in_the_future_is_refused(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()

    for n, declared_at in enumerate(("2026-01-04T02:00:00Z", "2026-03-05T02:00:00Z")):
        response = await svc.declare(
            property_id, admin(svc), key=f"k{n}", moved_in_on="2026-01-05",
            migrated=migrated(declared_at),
        )  # fmt: skip
        assert response.status_code == 422, response.text
        assert [e["loc"] for e in response.json()["detail"]] == [
            ["body", "migrated", "declared_at"]
        ]
    naive = await svc.declare(
        property_id, admin(svc), key="naive", moved_in_on="2026-01-05",
        migrated=migrated("2026-01-06T02:00:00"),
    )  # fmt: skip
    assert naive.status_code == 422, naive.text
    assert await svc.state() == before


async def test_a_time_at_the_edge_of_the_calendar_is_a_422_not_an_overflow(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()

    for n, declared_at in enumerate(("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")):
        response = await svc.declare(
            property_id, admin(svc), key=f"edge{n}", moved_in_on="2026-01-05",
            migrated=migrated(declared_at),
        )  # fmt: skip
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:2] == ["body", "migrated"]
    assert await svc.state() == before
