"""The office's base figures (底數清): per grid now, and a community's summary by month."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime

import pytest
from _employment_helpers import hire, new_employer
from _places_helpers import register_grid, signed, staff
from _registration_helpers import Registration, id_number
from sqlalchemy import insert

from registration.adapters import figures_repository as figures
from registration.adapters.employment_tables import employers, employments
from registration.adapters.figures_tables import grid_month_figures
from registration.adapters.residences_tables import properties, residences, rooms


async def test_a_grids_base_figures_count_what_is_registered_now(
    registration: Registration,
) -> None:
    svc = registration
    await register_grid(svc, "G1")
    first = await svc.new_property(rooms=[{"room_no": "101", "capacity": 3}])
    await svc.new_property(key="p2")  # rooms 101 (2) and 102 (1)
    await svc.new_property(key="elsewhere", grid_id="G2")
    assert (await svc.declare(first)).status_code == 201
    second_tenant = id_number("44030619920304567")
    assert (await svc.declare(first, key="m2", id_number=second_tenant)).status_code == 201
    await signed(svc, property_id=first)
    employer_id = await new_employer(svc)
    assert (await hire(svc, employer_id)).status_code == 201
    await signed(svc, kind="employer", employer_id=employer_id)

    response = await svc.client.get("/figures/grids/G1/base", headers=staff(svc))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["grid_name"], body["community"], body["as_of"]) == (
        "Grid G1",
        "Wentang",
        "2026-03-04",
    )
    assert {k: body[k] for k in figures.FIGURES} == {
        "rental_properties": 2,
        "properties_without_agreement": 1,
        "rooms": 3,
        "room_capacity": 6,
        "active_residences": 2,
        "persons_with_active_residence": 2,
        "employers": 1,
        "employers_without_agreement": 0,
        "active_employments": 1,
    }
    assert body["agreements_in_force"] == {"landlord": 1, "tenant": 0, "employer": 1}


@pytest.mark.parametrize("registered_grids", [()])  # it registers its own
async def test_an_unregistered_or_empty_grid_has_zero_figures_and_others_are_forbidden(
    registration: Registration,
) -> None:
    svc = registration

    empty = await svc.client.get("/figures/grids/G9/base", headers=staff(svc, "G9"))
    outside = await svc.client.get("/figures/grids/G1/base", headers=staff(svc, "G2"))
    landlord = await svc.client.get("/figures/grids/G1/base", headers=svc.landlord())

    assert empty.status_code == 200
    assert empty.json()["grid_name"] is None
    assert empty.json()["rental_properties"] == 0
    assert (outside.status_code, landlord.status_code) == (403, 403)


@pytest.mark.parametrize("registered_grids", [()])  # it registers its own
async def test_the_community_summary_sums_its_grids_and_gives_the_monthly_rate(
    registration: Registration,
) -> None:
    svc = registration
    for grid_id in ("G1", "G2"):
        await register_grid(svc, grid_id)
    await register_grid(svc, "S1", community="Sangyuan")
    await svc.new_property()
    await svc.new_property(key="p2", grid_id="G2")
    await svc.new_property(key="p3", grid_id="S1")
    async with svc.runtime.sessionmaker() as session, session.begin():
        await session.execute(
            insert(grid_month_figures),
            [
                {"grid_id": g, "month": m, "declarations": d, "self_declared": s,
                 "on_time": s, "over_capacity": 0}
                for g, m, d, s in [
                    ("G1", "2026-02", 10, 8), ("G2", "2026-02", 10, 9),
                    ("G1", "2026-03", 4, 4), ("S1", "2026-03", 100, 0),
                ]
            ],
        )  # fmt: skip
    both = staff(svc, "G1", "G2")

    response = await svc.client.get("/figures/community?community=Wentang&months=3", headers=both)
    partial = await svc.client.get("/figures/community?community=Wentang", headers=staff(svc))
    unknown = await svc.client.get("/figures/community?community=Nowhere", headers=both)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["grids"] == ["G1", "G2"]
    assert body["total"]["rental_properties"] == 2
    assert [g["rental_properties"] for g in body["per_grid"]] == [1, 1]
    assert body["months"] == [
        {"month": "2026-01", "declarations": 0, "self_declared": 0, "on_time": 0,
         "self_declaration_rate": None},
        {"month": "2026-02", "declarations": 20, "self_declared": 17, "on_time": 17,
         "self_declaration_rate": 0.85},
        {"month": "2026-03", "declarations": 4, "self_declared": 4, "on_time": 4,
         "self_declaration_rate": 1.0},
    ]  # fmt: skip
    assert body["period"]["self_declaration_rate"] == round(21 / 24, 4)
    assert partial.status_code == 403
    assert "G2" in partial.json()["detail"]
    assert unknown.status_code == 404


@pytest.mark.parametrize("registered_grids", [()])  # it registers its own
async def test_months_cross_the_year_boundary(registration: Registration) -> None:
    svc = registration
    await register_grid(svc, "G1")

    response = await svc.client.get(
        "/figures/community?community=Wentang&months=3&until=2026-01", headers=staff(svc)
    )

    assert [m["month"] for m in response.json()["months"]] == ["2025-11", "2025-12", "2026-01"]


PROPERTIES = 2000
GRIDS = 20
ROOMS_PER_PROPERTY = 20
RESIDENTS_PER_PROPERTY = 30
EMPLOYERS = 400


async def _seed_district(svc: Registration) -> None:
    """A district at the demo scale: 2,000 properties, 40,000 rooms, 60,000 residences."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    props, room_rows, residence_rows = [], [], []
    for i in range(PROPERTIES):
        pid = str(uuid.UUID(int=i + 1))
        props.append(
            {"id": pid, "address": f"{i} Road", "grid_id": f"G{i % GRIDS:02d}",
             "landlord_id": f"L{i}", "channel": "officer", "registered_by": "seed",
             "registered_at": now}
        )  # fmt: skip
        room_rows += [
            {"property_id": pid, "room_no": str(r), "capacity": 2}
            for r in range(ROOMS_PER_PROPERTY)
        ]
        residence_rows += [
            {"id": str(uuid.uuid4()), "person_ref": f"P{i:011d}{n:012d}", "property_id": pid,
             "room_no": str(n % ROOMS_PER_PROPERTY), "moved_in_on": date(2026, 1, 1),
             "declared_at": now, "deadline": date(2026, 1, 6), "on_time": True,
             "channel": "officer", "declared_by": "seed", "over_capacity": False,
             "ended_on": date(2026, 2, 1) if n % 10 == 0 else None}
            for n in range(RESIDENTS_PER_PROPERTY)
        ]  # fmt: skip
    employer_rows = [
        {"id": f"E{e}", "credit_code": f"{e:018d}", "name": f"Factory {e}",
         "grid_id": f"G{e % GRIDS:02d}", "address": "x", "channel": "officer",
         "registered_by": "seed", "registered_at": now}
        for e in range(EMPLOYERS)
    ]  # fmt: skip
    employment_rows = [
        {"id": str(uuid.uuid4()), "employer_id": f"E{e}", "person_ref": f"W{e:05d}{w:05d}",
         "id_number_masked": "x", "hired_on": date(2026, 1, 1), "channel": "officer",
         "declared_by": "seed", "declared_at": now}
        for e in range(EMPLOYERS)
        for w in range(25)
    ]  # fmt: skip
    async with svc.runtime.sessionmaker() as session, session.begin():
        for table, rows in [
            (properties, props),
            (rooms, room_rows),
            (residences, residence_rows),
            (employers, employer_rows),
            (employments, employment_rows),
        ]:
            for start in range(0, len(rows), 5000):
                await session.execute(insert(table), rows[start : start + 5000])


@pytest.mark.timeout(300)
async def test_base_figures_at_the_scale_of_the_demo_district(
    registration: Registration,
) -> None:
    """Aggregate queries on indexed columns, measured at 2,000 properties (printed with -s)."""
    svc = registration
    for g in range(GRIDS):
        await register_grid(svc, f"G{g:02d}")
    await _seed_district(svc)
    today = date(2026, 3, 4)
    grid_ids = [f"G{g:02d}" for g in range(GRIDS)]

    async with svc.runtime.sessionmaker() as session:
        started = time.perf_counter()
        one = await figures.base_figures(session, ["G00"], today=today)
        one_grid_s = time.perf_counter() - started
        started = time.perf_counter()
        every = await figures.base_figures(session, grid_ids, today=today)
        community_s = time.perf_counter() - started

    summed = figures.total(every)
    assert summed["rental_properties"] == PROPERTIES
    assert summed["rooms"] == PROPERTIES * ROOMS_PER_PROPERTY
    assert summed["room_capacity"] == PROPERTIES * ROOMS_PER_PROPERTY * 2
    assert summed["active_residences"] == PROPERTIES * RESIDENTS_PER_PROPERTY * 9 // 10
    assert summed["persons_with_active_residence"] == summed["active_residences"]
    assert summed["employers"] == EMPLOYERS
    assert summed["active_employments"] == EMPLOYERS * 25
    assert summed["properties_without_agreement"] == PROPERTIES
    assert one["G00"]["rental_properties"] == PROPERTIES // GRIDS
    print(
        f"\nbase figures (SQLite, {PROPERTIES} properties): one grid {one_grid_s * 1000:.1f} ms, "
        f"{GRIDS} grids {community_s * 1000:.1f} ms"
    )
    # Generous bounds: a regression to a scan per grid or per property would blow them.
    assert one_grid_s < 2.0 and community_s < 5.0
