"""HTTP API of sweeps (清查): plan, discoveries, coverage, completion."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day
from common.events import FreeText
from common.runtime import Runtime
from inspection.app.access import OFFICE_ROLES, PLANNERS, READ, WRITE
from inspection.app.sweeps import Discover, PlanSweep, Sweeps

SweepId = Annotated[str, Path(min_length=1, max_length=36)]
GRID = r"^[A-Za-z0-9_-]{1,50}$"
Writer = Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))]


class SweepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid_ids: list[Annotated[str, Field(pattern=GRID)]] = Field(min_length=1, max_length=50)
    starts_on: Day
    ends_on: Day
    team: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(max_length=500)
    volunteers: int = Field(default=0, ge=0, le=5000, description="Volunteers to ask dispatch for")


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room_no: str = Field(min_length=1, max_length=50)
    capacity_estimate: int = Field(ge=1, le=200)


class DiscoveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid_id: str = Field(pattern=GRID)
    address: FreeText = Field(min_length=1, max_length=500)
    rooms: list[RoomIn] = Field(min_length=1, max_length=2000)
    landlord_hint: str | None = Field(default=None, min_length=1, max_length=100)


def build_sweeps_router(runtime: Runtime, sweeps: Sweeps) -> APIRouter:
    router = APIRouter(tags=["sweeps"])

    @router.post("/sweeps", status_code=201, summary="Plan a sweep over grids and dates")
    async def plan_sweep(
        body: SweepIn, call: Annotated[Command, Depends(command(WRITE, roles=PLANNERS))]
    ) -> JSONResponse:
        cmd = PlanSweep(body.grid_ids, body.starts_on, body.ends_on, body.team, body.volunteers)
        return await call.run(
            body, lambda session: sweeps.plan(session, cmd, call.principal, call.trace)
        )

    @router.post(
        "/sweeps/{sweep_id}/discoveries",
        status_code=201,
        summary="A building the sweep found that is not registered (registration registers it)",
    )
    async def discover(sweep_id: SweepId, body: DiscoveryIn, call: Writer) -> JSONResponse:
        rooms = [(r.room_no, r.capacity_estimate) for r in body.rooms]
        cmd = Discover(sweep_id, body.grid_id, body.address, rooms, body.landlord_hint)
        return await call.run(
            body, lambda session: sweeps.discover(session, cmd, call.principal, call.trace)
        )

    @router.get("/sweeps/{sweep_id}", summary="Coverage: buildings, households, persons")
    async def progress(
        sweep_id: SweepId,
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await sweeps.progress(session, sweep_id, principal)

    @router.post("/sweeps/{sweep_id}/complete", summary="Close the sweep with its figures")
    async def complete(
        sweep_id: SweepId, call: Annotated[Command, Depends(command(WRITE, roles=PLANNERS))]
    ) -> JSONResponse:
        return await call.run(
            {"sweep_id": sweep_id},
            lambda session: sweeps.complete(session, sweep_id, call.principal, call.trace),
        )

    return router
