"""HTTP API of the registry inspection keeps: a grid's buildings as it knows them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from common.auth import Principal, requires
from common.guard import Offset
from common.runtime import Runtime
from inspection.adapters import registry_repository as repo
from inspection.app.access import OFFICE_ROLES, READ, authorize_grid


def build_registry_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["registry"])

    @router.get(
        "/grids/{grid_id}/properties",
        summary="A grid's buildings as inspection knows them from registration's events",
    )
    async def grid_properties(
        grid_id: Annotated[str, Path(max_length=50)],
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        async with runtime.sessionmaker() as session:
            total, rows = await repo.properties_of(session, grid_id, limit=limit, offset=offset)
        return {
            "grid_id": grid_id,
            "total": total,
            "properties": [
                {"property_id": r.property_id, "rooms": r.room_numbers, "capacity": r.capacity,
                 "residents": int(r.residents), "last_visited_on": r.last_visited_on}
                for r in rows
            ],
        }  # fmt: skip

    return router
