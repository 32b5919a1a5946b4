"""HTTP API of verification tasks (精準核查): the officer's list, and the outcome on site."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day
from common.runtime import Runtime
from inspection.app.access import OFFICE_ROLES, READ, WRITE
from inspection.app.verification import Verifications, Verify
from inspection.events import VerificationOutcome

LeadId = Annotated[str, Path(min_length=1, max_length=36)]


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: VerificationOutcome
    room_no: str | None = Field(default=None, min_length=1, max_length=50)
    moved_in_on: Day | None = None


def build_verification_router(runtime: Runtime, verifications: Verifications) -> APIRouter:
    router = APIRouter(tags=["verification"])

    @router.get("/tasks", summary="Verification tasks of the caller's grids")
    async def list_tasks(
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
        grid_id: Annotated[str | None, Query(max_length=50)] = None,
        status: Literal["open", "overdue", "done", "closed"] = "open",
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await verifications.listing(session, principal, grid_id=grid_id, status=status)

    @router.post(
        "/tasks/{lead_id}/verification",
        summary="The outcome of a lead's verification on site (published to registration)",
    )
    async def verify(
        lead_id: LeadId,
        body: VerificationIn,
        call: Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))],
    ) -> JSONResponse:
        cmd = Verify(lead_id, body.outcome, body.room_no, body.moved_in_on)
        return await call.run(
            body, lambda session: verifications.verify(session, cmd, call.principal, call.trace)
        )

    return router
