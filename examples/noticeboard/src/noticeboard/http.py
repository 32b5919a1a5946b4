"""The noticeboard's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day
from common.errors import Forbidden
from common.events import FreeText
from common.runtime import Runtime
from noticeboard import tables
from noticeboard.app import Noticeboard

WRITE = "noticeboard:write"
READ = "noticeboard:read"
OFFICE_ROLES = {"officer", "grid_worker", "admin"}

Reader = Annotated[Principal, Depends(requires(READ))]
GridId = Annotated[str, Path(max_length=50)]


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: FreeText = Field(min_length=1, max_length=200)
    body: FreeText = Field(min_length=1, max_length=5000)
    until: Day = Field(description="Last day the notice stays up")


def build_router(runtime: Runtime, board: Noticeboard) -> APIRouter:
    router = APIRouter(tags=["notices"])

    @router.post("/grids/{grid_id}/notices", status_code=201)
    async def post_notice(
        grid_id: GridId,
        body: NoticeIn,
        cmd: Command = Depends(command(WRITE, roles=OFFICE_ROLES)),  # noqa: B008
    ) -> Any:
        return await cmd.run(
            body,
            lambda session: board.post(
                session,
                cmd.principal,
                grid_id=grid_id,
                title=body.title,
                body=body.body,
                until=body.until,
                trace=cmd.trace,
            ),
        )

    @router.get("/grids/{grid_id}/notices")
    async def list_notices(grid_id: GridId, principal: Reader) -> dict[str, Any]:
        if not principal.covers_grid(grid_id):
            raise Forbidden
        async with runtime.sessionmaker() as session:
            found = await tables.notices_of(session, grid_id)
            reached = await tables.buildings_in(session, grid_id)
        return {
            "grid_id": grid_id,
            "buildings": reached,
            "notices": [
                {"notice_id": n.notice_id, "title": n.title, "body": n.body,
                 "posted_at": n.posted_at, "until": n.until}
                for n in found
            ],
        }  # fmt: skip

    return router
