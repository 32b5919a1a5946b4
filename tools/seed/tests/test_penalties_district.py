"""Penalties' demo district against penalties in-process (cases opened from events as
the other districts' would open them): order checks, appeals and cases by hand, without
an error."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.clock import FakeClock
from common.testing import Running, migrated_sqlite, run_service, sqlite_copy
from penalties.main import service
from penalties.settings import PenaltiesSettings
from penalties.upstream.registration import (
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
)
from seed.penalties.district import PenaltiesDistrict, Rates

SECRET = "seed-penalties-test-secret-0123456789"
NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
async def penalties(tmp_path: Path) -> AsyncIterator[Running]:
    (tmp_path / "template").mkdir()
    template = migrated_sqlite(service, tmp_path / "template")
    settings = PenaltiesSettings(database_url=sqlite_copy(template, tmp_path), jwt_secret=SECRET)
    async with run_service(service, settings, clock=FakeClock(NOW)) as running:
        yield running


async def test_the_district_checks_orders_rules_on_appeals_and_opens_cases(
    penalties: Running,
) -> None:
    svc = penalties
    grids = ["WT01-G01", "WT01-G02"]
    for n in range(12):
        grid = grids[n % 2]
        await svc.deliver(
            PropertyRegistered(
                property_id=f"P{n}",
                grid_id=grid,
                address=f"{n} Demo Road",
                landlord_id=f"L{n}",
                registered_at=NOW - timedelta(days=200),
            )
        )
        await svc.deliver(
            OccupantFindingSettled(
                finding_id=f"F{n}",
                property_id=f"P{n}",
                grid_id=grid,
                landlord_id=f"L{n}",
                room_no="101",
                outcome=FindingOutcome.REGISTERED,
                found_at=NOW - timedelta(days=1),
                visit_id=f"V{n}",
            )
        )
    await svc.drain()

    district = PenaltiesDistrict(
        svc.client, SECRET, today=NOW.date(), rng=random.Random(3),
        rates=Rates(appealed=0.5, upheld=0.5),
    )  # fmt: skip
    stats = await district.run(grids)

    assert dict(stats.errors) == {}, stats.samples
    assert stats.counts["order checks"] >= 6
    assert stats.counts["appeals"] >= 1 and stats.counts["rulings"] == stats.counts["appeals"]
    assert stats.counts["cases by hand"] == 2
    figures = (
        await svc.client.get("/figures?month=2026-03", headers=district.headers(role="admin"))
    ).json()
    assert figures["orders"] >= 12
    assert figures["orders_verified_on_time"] >= 1
