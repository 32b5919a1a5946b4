"""Base figures HTTP API (底數清): a grid's current figures, a community's summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from common.auth import Principal, requires
from common.dates import MONTH_PATTERN
from common.errors import Forbidden, NotFound
from common.runtime import Runtime
from registration.adapters import figures_repository as figures
from registration.adapters import places_repository
from registration.app.access import OFFICE_ROLES, READ, authorize_grid
from registration.domain.agreements import AgreementPolicy
from registration.domain.policy import Month

Staff = Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))]


def months_back(last: Month, count: int) -> list[str]:
    """``count`` months ending with ``last``, oldest first."""
    months = [last]
    while len(months) < count:
        prev = months[-1]
        months.append(
            Month(prev.year - 1, 12) if prev.month == 1 else Month(prev.year, prev.month - 1)
        )
    return [str(m) for m in reversed(months)]


def build_figures_router(runtime: Runtime, policy: AgreementPolicy) -> APIRouter:
    router = APIRouter(tags=["figures"])
    sessions = runtime.sessionmaker

    @router.get(
        "/figures/grids/{grid_id}/base",
        summary="A grid's base figures now: properties, rooms, capacity, residents, "
        "agreements in force, employers, employments",
    )
    async def grid_base_figures(
        grid_id: Annotated[str, Path(max_length=50)], principal: Staff
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        today = policy.local_date(runtime.clock.now())
        async with sessions() as session:
            grid = await places_repository.load_grid(session, grid_id)
            per_grid = await figures.base_figures(session, [grid_id], today=today)
        return {
            "grid_id": grid_id,
            "grid_name": grid.name if grid else None,
            "community": grid.community if grid else None,
            "as_of": today,
            **per_grid[grid_id],
        }

    @router.get("/figures/grids/{grid_id}", summary="A grid's monthly declaration figures")
    async def grid_figures(
        grid_id: Annotated[str, Path(max_length=50)],
        principal: Staff,
        month: Annotated[str, Query(pattern=MONTH_PATTERN)],
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        async with sessions() as session:
            row = await figures.grid_month(session, grid_id, month)
        declarations = row.declarations if row else 0
        self_declared = row.self_declared if row else 0
        return {
            "grid_id": grid_id,
            "month": month,
            "declarations": declarations,
            "self_declared": self_declared,
            "on_time": row.on_time if row else 0,
            "over_capacity": row.over_capacity if row else 0,
            "self_declaration_rate": round(self_declared / declarations, 4)
            if declarations
            else None,
        }

    @router.get(
        "/figures/community",
        summary="A community's base figures (total and per grid) and its monthly "
        "self-declaration rate (申報率); staff covering every grid of it",
    )
    async def community_figures(
        principal: Staff,
        community: Annotated[str, Query(min_length=1, max_length=100)],
        months: Annotated[int, Query(ge=1, le=24, description="Months ending with `until`")] = 6,
        until: Annotated[
            str | None, Query(pattern=MONTH_PATTERN, description="Last month; default: now")
        ] = None,
    ) -> dict[str, Any]:
        today = policy.local_date(runtime.clock.now())
        async with sessions() as session:
            grid_ids = await places_repository.grid_ids_of_community(session, community)
            if not grid_ids:
                raise NotFound("community", community)
            outside = [g for g in grid_ids if not principal.covers_grid(g)]
            if outside:
                raise Forbidden(
                    f"grids {', '.join(outside)} of {community} are outside the caller's grids"
                )
            per_grid = await figures.base_figures(session, grid_ids, today=today)
            last = Month.parse(until) if until else Month.of(today)
            monthly = await figures.declaration_months(session, grid_ids, months_back(last, months))
        declarations = sum(m["declarations"] for m in monthly)
        self_declared = sum(m["self_declared"] for m in monthly)
        return {
            "community": community,
            "grids": grid_ids,
            "as_of": today,
            "total": figures.total(per_grid),
            "per_grid": [{"grid_id": g, **per_grid[g]} for g in grid_ids],
            "months": monthly,
            "period": {
                "declarations": declarations,
                "self_declared": self_declared,
                "self_declaration_rate": round(self_declared / declarations, 4)
                if declarations
                else None,
            },
        }

    return router
