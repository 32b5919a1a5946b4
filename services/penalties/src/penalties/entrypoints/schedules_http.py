"""HTTP API of the penalty schedule: its versions, a new one, and a case recomputed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day
from common.runtime import Runtime
from penalties.app.access import ADMINS, OFFICE_ROLES, READ, READERS, WRITE
from penalties.app.schedules import Schedules
from penalties.domain.schedule import Schedule

CaseId = Annotated[str, Path(min_length=1, max_length=36)]


def build_schedules_router(runtime: Runtime, schedules: Schedules) -> APIRouter:
    router = APIRouter(tags=["schedule"])

    @router.get("/schedules", summary="The schedule's versions (flagged when past review)")
    async def list_schedules(
        _: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await schedules.listing(session)

    @router.post(
        "/schedules",
        status_code=201,
        summary="A new version (admins); a later open-ended one ends the one before",
    )
    async def add_schedule(
        body: Schedule, call: Annotated[Command, Depends(command(WRITE, roles=ADMINS))]
    ) -> JSONResponse:
        return await call.run(body, lambda session: schedules.add(session, body, call.principal))

    @router.get(
        "/cases/{case_id}/recomputed",
        summary="A case's decisions under the schedule in force on a date (changes nothing)",
    )
    async def recompute(
        case_id: CaseId,
        principal: Annotated[Principal, Depends(requires(READ, roles=READERS))],
        as_of: Annotated[Day | None, Query()] = None,
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await schedules.recompute(session, case_id, as_of, principal)

    return router
