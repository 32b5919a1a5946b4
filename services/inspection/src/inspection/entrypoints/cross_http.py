"""HTTP API of cross-inspections (交叉檢查): teams, assignments, the circulated ranking."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.commands import Command, command
from common.dates import MONTH_PATTERN
from common.events import FreeText
from common.runtime import Runtime
from inspection.app.access import WRITE
from inspection.app.cross import CrossInspections

CODE = r"^[A-Za-z0-9_-]{1,50}$"
Admin = Annotated[Command, Depends(command(WRITE, roles={"admin"}))]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: str = Field(pattern=CODE)
    name: FreeText = Field(min_length=1, max_length=200)
    home_grids: list[Annotated[str, Field(pattern=CODE)]] = Field(min_length=1, max_length=50)
    members: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=200)


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: str = Field(pattern=CODE)
    grid_id: str = Field(pattern=CODE)


class CrossIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=MONTH_PATTERN)
    assignments: list[AssignmentIn] = Field(max_length=200)


def build_cross_router(runtime: Runtime, cross: CrossInspections) -> APIRouter:
    router = APIRouter(tags=["cross-inspections"])

    @router.post("/teams", status_code=201, summary="Register an inspection team; admins")
    async def register_team(body: TeamIn, call: Admin) -> JSONResponse:
        team = body.model_dump()
        return await call.run(
            body, lambda session: cross.register_team(session, team, call.principal, call.trace)
        )

    @router.post(
        "/cross-inspections",
        status_code=201,
        summary="Assign teams to other teams' grids for a month (never their own); admins",
    )
    async def assign(body: CrossIn, call: Admin) -> JSONResponse:
        pairs = [(a.team_id, a.grid_id) for a in body.assignments]
        return await call.run(
            body,
            lambda session: cross.assign(session, body.month, pairs, call.principal, call.trace),
        )

    @router.post(
        "/cross-inspections/{cross_id}/circulate",
        summary="Compare the teams' findings, rank them and circulate the ranking (通報)",
    )
    async def circulate(cross_id: Annotated[str, Path(max_length=36)], call: Admin) -> JSONResponse:
        return await call.run(
            {"cross_id": cross_id},
            lambda session: cross.circulate(session, cross_id, call.principal, call.trace),
        )

    return router
