"""The demo district generator, at a tiny scale, against the service in-process."""

from __future__ import annotations

from datetime import date

import pytest
from _places_helpers import admin
from _registration_helpers import JWT_SECRET, Registration

from registration.district import generate


@pytest.mark.timeout(300)
async def test_the_district_generator_creates_what_the_figures_then_count(
    registration: Registration,
) -> None:
    svc = registration
    lines: list[str] = []

    stats, ok = await generate(
        "http://registration.test",
        JWT_SECRET,
        scale=0.002,
        seed=7,
        concurrency=4,
        client=svc.client,
        today=date(2026, 3, 4),
        log=lines.append,
    )

    assert ok, "\n".join(lines)
    assert stats.error_count == 0, "\n".join(lines)
    created = stats.created
    assert (created["properties"], created["declarations"], created["employers"]) == (4, 136, 12)
    assert 0 < created["self_declared"] < created["declarations"]
    response = await svc.client.get(
        "/figures/community?community=Wentang&months=6&until=2026-03", headers=admin(svc)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    total = body["total"]
    assert len(body["grids"]) == created["grids"] == 2
    assert total["rental_properties"] == created["properties"]
    assert total["rooms"] == 84
    assert total["active_residences"] == created["declarations"]
    assert total["persons_with_active_residence"] == created["declarations"]
    assert total["employers"] == created["employers"]
    assert total["active_employments"] == created["hires"] > 0
    in_force = total["agreements_in_force"]
    assert sum(in_force.values()) == created["agreements"] == 16
    assert in_force["landlord"] == created["agreements_landlord"]
    assert in_force["employer"] == created["agreements_employer"]
    assert in_force["tenant"] == created["agreements_tenant"]
    assert total["properties_without_agreement"] == 4 - in_force["landlord"]
    assert total["employers_without_agreement"] == 12 - in_force["employer"]
