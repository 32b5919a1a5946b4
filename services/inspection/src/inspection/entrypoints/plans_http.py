"""HTTP API of spot-check plans (抽查): draw one, read it with why each property was picked;
and the staff assessment (考核) over plans, visits and tasks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import MONTH_PATTERN
from common.runtime import Runtime
from inspection.app.access import OFFICE_ROLES, PLANNERS, READ, WRITE
from inspection.app.assessment import Assessment
from inspection.app.plans import DrawPlan, Plans, assign_plan
from inspection.domain.sampling import Staff


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid_id: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_-]+$")
    month: str = Field(pattern=MONTH_PATTERN, description="The month the visits are for")
    size: int = Field(ge=1, description="How many properties to visit (at most the policy's)")
    seed: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="Give one to draw a plan again; otherwise the plan gets its own",
    )


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account: str = Field(min_length=1, max_length=200)
    capacity: int = Field(ge=0, le=1000, description="Visits they can make in the period")
    day: bool = True
    evening: bool = Field(default=False, description="Works the evening shift (錯時工作制)")


class AssignmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff: list[StaffIn] = Field(min_length=1, max_length=500)


def build_assessment_router(runtime: Runtime, assessment: Assessment) -> APIRouter:
    router = APIRouter(tags=["assessment"])

    @router.get(
        "/assessment",
        summary="Staff assessment (考核): each account's month of visits, shifts and tasks",
    )
    async def month_of_work(
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
        month: Annotated[str, Query(pattern=MONTH_PATTERN)],
        grid_id: Annotated[str | None, Query(max_length=50)] = None,
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await assessment.month(session, principal, month=month, grid_id=grid_id)

    return router


def build_plans_router(
    runtime: Runtime, plans: Plans, *, max_size: int, evening_share: float
) -> APIRouter:
    router = APIRouter(tags=["plans"])

    @router.put(
        "/plans/{plan_id}/assignment",
        summary="Assign a plan's visits to staff within their capacity, day and evening",
    )
    async def assign_plan_visits(
        plan_id: Annotated[str, Path(max_length=36)],
        body: AssignmentIn,
        call: Annotated[Command, Depends(command(WRITE, roles=PLANNERS))],
    ) -> JSONResponse:
        staff = [Staff(s.account, s.capacity, s.day, s.evening) for s in body.staff]
        return await call.run(
            body,
            lambda session: assign_plan(
                session, plan_id, staff, call.principal, evening_share=evening_share
            ),
        )

    @router.post(
        "/plans",
        status_code=201,
        summary="Draw a spot-check plan for a grid and a month (reproducible, risk-weighted)",
    )
    async def draw_plan(
        body: PlanIn, call: Annotated[Command, Depends(command(WRITE, roles=PLANNERS))]
    ) -> JSONResponse:
        size = min(body.size, max_size)
        cmd = DrawPlan(grid_id=body.grid_id, month=body.month, size=size, seed=body.seed)
        return await call.run(
            body, lambda session: plans.draw(session, cmd, call.principal, call.trace)
        )

    @router.get("/plans/{plan_id}", summary="A plan, and why each property was picked")
    async def get_plan(
        plan_id: Annotated[str, Path(max_length=36)],
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await plans.explain(session, plan_id, principal)

    return router
