"""HTTP API of follow-ups: the visits penalties' rectification orders call for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from common.auth import Principal, requires
from common.runtime import Runtime
from inspection.app.access import OFFICE_ROLES, READ
from inspection.app.follow_ups import FollowUps, Status


def build_follow_ups_router(runtime: Runtime, follow_ups: FollowUps) -> APIRouter:
    router = APIRouter(tags=["follow-ups"])

    @router.get("/follow-ups", summary="Follow-up visits of rectification orders, by deadline")
    async def list_follow_ups(
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
        grid_id: Annotated[str | None, Query(max_length=50)] = None,
        status: Status = "open",
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await follow_ups.listing(session, principal, grid_id=grid_id, status=status)

    return router
