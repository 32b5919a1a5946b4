"""Inspection's demo district against inspection in-process (its registry fed as
registration would): plans, visits, verifications and a sweep, without an error."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.clock import FakeClock
from common.testing import Running, migrated_sqlite, run_service, sqlite_copy
from inspection.main import service
from inspection.settings import InspectionSettings
from inspection.upstream.registration import (
    PropertyRegistered,
    RoomCapacity,
    UnregisteredOccupantSuspected,
)
from seed.inspection.district import InspectionDistrict, last_months

SECRET = "seed-inspection-test-secret-0123456789"
NOW = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
async def inspection(tmp_path: Path) -> AsyncIterator[Running]:
    (tmp_path / "template").mkdir()
    template = migrated_sqlite(service, tmp_path / "template")
    settings = InspectionSettings(database_url=sqlite_copy(template, tmp_path), jwt_secret=SECRET)
    async with run_service(service, settings, clock=FakeClock(NOW)) as running:
        yield running


async def test_the_district_plans_visits_verifies_and_sweeps(inspection: Running) -> None:
    svc = inspection
    grids = ["WT01-G01", "WT01-G02"]
    rooms = [RoomCapacity(room_no="101", capacity=4)]
    for g, grid in enumerate(grids):
        for n in range(20):
            await svc.deliver(PropertyRegistered(property_id=f"{grid}-P{n}", grid_id=grid,
                                                 rooms=rooms))  # fmt: skip
        await svc.deliver(UnregisteredOccupantSuspected(
            lead_id=f"L{g}", property_id=f"{grid}-P0", grid_id=grid, suspected_at=NOW))  # fmt: skip
    district = InspectionDistrict(svc.client, SECRET, today=NOW.date(), rng=random.Random(3),
                                  log=lambda _: None)  # fmt: skip

    stats = await district.run(grids, last_months(NOW.date(), 3))

    assert dict(stats.errors) == {}, stats.samples
    counts = stats.counts
    assert counts["visits"] >= 2 * 2 * 2 + 6  # two grids, a plan of 2 in two past months, a sweep
    assert counts["verifications"] == 2
    assert (counts["sweeps"], counts["discoveries"], counts["sweeps completed"]) == (1, 4, 1)
