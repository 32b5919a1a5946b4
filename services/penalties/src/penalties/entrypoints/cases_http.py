"""HTTP API of cases: open one, decide a count, check an order, appeal and rule on it;
read a case, list cases and open orders, and the office's figures."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command, request_trace
from common.dates import MONTH_PATTERN, Day
from common.runtime import Runtime
from penalties.app.access import DECIDERS, OFFICE_ROLES, READ, READERS, WRITE
from penalties.app.cases import Cases, Decide, OpenCase
from penalties.domain.schedule import MAX_FINE_YUAN
from penalties.events import CODE, Action, PartyKind

CaseId = Annotated[str, Path(min_length=1, max_length=36)]
OrderId = Annotated[str, Path(min_length=1, max_length=36)]
AppealId = Annotated[str, Path(min_length=1, max_length=36)]
GridQuery = Annotated[str | None, Query(min_length=1, max_length=50)]
Reader = Annotated[Principal, Depends(requires(READ, roles=READERS))]
Office = Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))]
Limit = Annotated[int, Query(ge=1, le=1000)]
Id = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    breach: str = Field(pattern=CODE, description="A breach type of the schedule in force")
    party_kind: PartyKind
    property_id: Id | None = None
    employer_id: Id | None = None
    occurred_on: Day
    note: str | None = Field(default=None, min_length=1, max_length=500)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count_no: int = Field(ge=1, le=10_000, description="The count's number in the case")
    action: Action
    amount_yuan: int | None = Field(default=None, ge=0, le=MAX_FINE_YUAN)
    grace_working_days: int | None = Field(default=None, ge=1, le=180)
    reason: Reason


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rectified: bool


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision_id: Id
    grounds: str = Field(min_length=1, max_length=2000)


class RulingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    upheld: bool
    reason: Reason


def build_cases_router(runtime: Runtime, cases: Cases) -> APIRouter:
    router = APIRouter(tags=["cases"])

    @router.post("/cases", status_code=201, summary="Open a case by hand (an officer's)")
    async def open_case(
        body: CaseIn, call: Annotated[Command, Depends(command(WRITE, roles=DECIDERS))]
    ) -> JSONResponse:
        cmd = OpenCase(
            body.breach, body.party_kind, body.property_id, body.employer_id,
            body.occurred_on, body.note,
        )  # fmt: skip
        return await call.run(
            body, lambda session: cases.open(session, cmd, call.principal, call.trace)
        )

    @router.get("/cases", summary="Cases of the caller's grids, or a party's own")
    async def list_cases(
        principal: Reader,
        grid_id: GridQuery = None,
        status: Literal["open", "closed"] | None = None,
        party_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
        property_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
        limit: Limit = 200,
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await cases.listing(
                session, principal, grid_id=grid_id, status=status, party_id=party_id,
                property_id=property_id, limit=limit,
            )  # fmt: skip

    @router.get("/cases/{case_id}", summary="A case: counts, decisions, checks, notices, appeals")
    async def get_case(
        case_id: CaseId,
        principal: Reader,
        trace: Annotated[Any, Depends(request_trace)],
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await cases.view(session, case_id, principal, trace)

    @router.post(
        "/cases/{case_id}/decisions",
        status_code=201,
        summary="An officer's decision on a count, within what the schedule allows",
    )
    async def decide(
        case_id: CaseId,
        body: DecisionIn,
        call: Annotated[Command, Depends(command(WRITE, roles=DECIDERS))],
    ) -> JSONResponse:
        cmd = Decide(
            body.count_no, body.action, body.amount_yuan, body.grace_working_days, body.reason
        )
        return await call.run(
            body,
            lambda session: cases.decide(session, case_id, cmd, call.principal, call.trace),
        )

    @router.post(
        "/cases/{case_id}/appeals",
        status_code=201,
        summary="Appeal a decision (the party) or record an appeal received (an officer)",
    )
    async def appeal(
        case_id: CaseId,
        body: AppealIn,
        call: Annotated[Command, Depends(command(WRITE, roles=READERS))],
    ) -> JSONResponse:
        return await call.run(
            body,
            lambda session: cases.appeal(
                session, case_id, body.decision_id, body.grounds, call.principal, call.trace
            ),
        )

    @router.post("/appeals/{appeal_id}/ruling", summary="Uphold or dismiss an appeal")
    async def rule(
        appeal_id: AppealId,
        body: RulingIn,
        call: Annotated[Command, Depends(command(WRITE, roles=DECIDERS))],
    ) -> JSONResponse:
        return await call.run(
            body,
            lambda session: cases.rule_on_appeal(
                session, appeal_id, body.upheld, body.reason, call.principal, call.trace
            ),
        )

    @router.post(
        "/orders/{order_id}/checks",
        summary="An officer's verdict on an order outside a visit (a document, a photo)",
    )
    async def check(
        order_id: OrderId,
        body: CheckIn,
        call: Annotated[Command, Depends(command(WRITE, roles=DECIDERS))],
    ) -> JSONResponse:
        return await call.run(
            body,
            lambda session: cases.check_order(
                session, order_id, body.rectified, call.principal, call.trace
            ),
        )

    @router.get("/orders", summary="Open rectification orders by deadline (overdue: past it)")
    async def list_orders(
        principal: Office,
        grid_id: GridQuery = None,
        overdue: bool = False,
        limit: Limit = 500,
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await cases.orders(
                session, principal, grid_id=grid_id, overdue=overdue, limit=limit
            )

    @router.get("/figures", summary="The office's month: penalised, ordered, compliance")
    async def figures(
        principal: Office,
        month: Annotated[str, Query(pattern=MONTH_PATTERN)],
        grid_id: GridQuery = None,
    ) -> dict[str, Any]:
        async with runtime.sessionmaker() as session:
            return await cases.figures(session, principal, month=month, grid_id=grid_id)

    return router
