"""Employment HTTP API: employers, hires and leaves (one by one or as a CSV roster), returns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.csvfile import TooManyRows
from common.dates import MONTH_PATTERN, Day
from common.errors import NotFound
from common.guard import Offset
from common.pii import mask_id_number
from common.runtime import Runtime
from common.uploads import decode_text, read_body, too_large
from registration.adapters import employment_repository as repo
from registration.app import roster as roster_csv
from registration.app.access import READ, WRITE, authorize_employer
from registration.app.employment import (
    DeclareHire,
    DeclareLeave,
    EmploymentService,
    FileReturn,
    RegisterEmployer,
)

Writer = Annotated[Principal, Depends(requires(WRITE))]
Reader = Annotated[Principal, Depends(requires(READ))]
EmployerId = Annotated[str, Path(max_length=36)]


class EmployerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credit_code: str = Field(
        min_length=1, max_length=40, description="Unified social credit code (GB 32100)"
    )
    name: str = Field(min_length=1, max_length=200)
    grid_id: str = Field(min_length=1, max_length=50)
    address: str = Field(min_length=1, max_length=500)


class HireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(min_length=18, max_length=18, description="Resident identity number")
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    hired_on: Day


class LeaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    left_on: Day


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=MONTH_PATTERN, description="The month reported, YYYY-MM")
    headcount: int = Field(ge=0, le=1_000_000, description="Workers at the end of the month")
    hires: int = Field(ge=0, le=1_000_000, description="Workers hired during the month")
    leavers: int = Field(ge=0, le=1_000_000, description="Workers who left during the month")


ROSTER_DOC = (
    "Body: `text/csv` (UTF-8; `; charset=gb18030` for Chinese Excel files), header "
    "`action,id_number,name,phone,date`, one hire or leave per line. Valid lines are "
    "applied, every invalid line is reported with its line number, field and reason. "
    "Needs an Idempotency-Key; the same file content sent again (any key) is recognised "
    "and not applied twice (200, `already_applied`)."
)


def build_employment_router(
    runtime: Runtime, service: EmploymentService, *, roster_max_rows: int, roster_max_bytes: int
) -> APIRouter:
    router = APIRouter(tags=["employment"])
    sessions = runtime.sessionmaker

    async def readable_employer(employer_id: str, principal: Principal) -> Any:
        async with sessions() as session:
            row = await repo.employer_row(session, employer_id)
        if row is None:
            raise NotFound("employer", employer_id)
        authorize_employer(principal, grid_id=row.grid_id, credit_code=row.credit_code)
        return row

    @router.post(
        "/employers",
        status_code=201,
        summary="Register an employer (office staff in the grid, or the employer itself)",
    )
    async def register_employer(
        body: EmployerIn, call: Annotated[Command, Depends(command(WRITE))]
    ) -> JSONResponse:
        cmd = RegisterEmployer(body.credit_code, body.name, body.grid_id, body.address)
        return await call.run(
            body,
            lambda session: service.register_employer(session, cmd, call.principal, call.trace),
        )

    @router.get("/employers/{employer_id}", summary="An employer and its employment counts")
    async def get_employer(employer_id: EmployerId, principal: Reader) -> dict[str, Any]:
        row = await readable_employer(employer_id, principal)
        async with sessions() as session:
            active, declared = await repo.employment_counts(session, employer_id)
        return {
            "employer_id": row.id,
            "credit_code": row.credit_code,
            "name": row.name,
            "grid_id": row.grid_id,
            "address": row.address,
            "channel": row.channel,
            "registered_at": row.registered_at,
            "active_employments": active,
            "employments_declared": declared,
        }

    @router.get(
        "/employers/{employer_id}/employments",
        summary="An employer's employments (pseudonymous), newest hire first",
    )
    async def list_employments(
        employer_id: EmployerId,
        principal: Reader,
        active: Annotated[bool, Query(description="Only current employments")] = True,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        await readable_employer(employer_id, principal)
        async with sessions() as session:
            rows = await repo.employments_of(
                session, employer_id, active=active, limit=limit, offset=offset
            )
        return {
            "employer_id": employer_id,
            "employments": [
                {
                    "employment_id": r.id,
                    "person_ref": r.person_ref,
                    "id_number_masked": mask_id_number(service.cipher.decrypt(r.id_number_enc)),
                    "hired_on": r.hired_on,
                    "left_on": r.left_on,
                    "channel": r.channel,
                    "declared_at": r.declared_at,
                }
                for r in rows
            ],
        }

    @router.post(
        "/employers/{employer_id}/employments",
        status_code=201,
        summary="Declare a hire (用人登記)",
    )
    async def declare_hire(
        employer_id: EmployerId,
        body: HireIn,
        call: Annotated[Command, Depends(command(WRITE))],
    ) -> JSONResponse:
        cmd = DeclareHire(employer_id, body.id_number, body.name, body.phone, body.hired_on)
        return await call.run(
            body, lambda session: service.declare_hire(session, cmd, call.principal, call.trace)
        )

    @router.post(
        "/employers/{employer_id}/employments/{employment_id}/end",
        summary="Declare a leave (人走銷戶)",
    )
    async def declare_leave(
        employer_id: EmployerId,
        employment_id: Annotated[str, Path(max_length=36)],
        body: LeaveIn,
        call: Annotated[Command, Depends(command(WRITE))],
    ) -> JSONResponse:
        cmd = DeclareLeave(employer_id, employment_id, body.left_on)
        return await call.run(
            body, lambda session: service.declare_leave(session, cmd, call.principal, call.trace)
        )

    @router.post(
        "/employers/{employer_id}/roster",
        status_code=201,
        summary="Upload hires and leaves as CSV",
        description=ROSTER_DOC,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
    )
    async def upload_roster(
        employer_id: EmployerId,
        call: Annotated[Command, Depends(command(WRITE))],
    ) -> JSONResponse:
        upload = await read_body(
            call.request, "text/csv", roster_max_bytes, advice="split the file"
        )
        try:
            roster = roster_csv.parse(
                decode_text(upload.content, upload.charset), max_rows=roster_max_rows
            )
        except TooManyRows as exc:
            raise too_large(str(exc)) from None
        return await call.run(
            {"content_sha256": roster.sha256},
            lambda session: service.upload_roster(
                session, employer_id, roster, call.principal, call.trace
            ),
            status_code=None,
        )

    @router.post(
        "/employers/{employer_id}/returns",
        status_code=201,
        summary="File (or amend) a monthly return (每月統計、逐月上報)",
    )
    async def file_return(
        employer_id: EmployerId,
        body: ReturnIn,
        call: Annotated[Command, Depends(command(WRITE))],
    ) -> JSONResponse:
        cmd = FileReturn(employer_id, body.month, body.headcount, body.hires, body.leavers)
        return await call.run(
            body, lambda session: service.file_return(session, cmd, call.principal, call.trace)
        )

    @router.get(
        "/employers/{employer_id}/returns",
        summary="Each month since registration: filed (with its versions), missed or open",
    )
    async def list_returns(employer_id: EmployerId, principal: Reader) -> dict[str, Any]:
        employer = await readable_employer(employer_id, principal)
        async with sessions() as session:
            filed = await repo.returns_of(session, employer_id)
        policy, now = service.policy, runtime.clock.now()
        versions: dict[str, list[dict[str, Any]]] = {}
        for r in filed:
            versions.setdefault(r.month, []).append(
                {
                    "version": r.version,
                    "headcount": r.headcount,
                    "hires": r.hires,
                    "leavers": r.leavers,
                    "recorded_headcount": r.recorded_headcount,
                    "on_time": r.on_time,
                    "filed_at": r.filed_at,
                    "filed_by": r.filed_by,
                }
            )
        months: list[dict[str, Any]] = []
        month = policy.month_of(repo.as_utc(employer.registered_at))
        current = policy.month_of(now)
        while month <= current:
            due_at = policy.due_at(month)
            history = versions.pop(str(month), [])
            state = "filed" if history else ("missed" if now >= due_at else "open")
            months.append(
                {
                    "month": str(month),
                    "due_at": due_at,
                    "status": state,
                    "current": history[-1] if history else None,
                    "versions": history,
                }
            )
            month = month.next()
        return {
            "employer_id": employer_id,
            "policy": {
                "due_day": policy.due_day,
                "timezone": str(policy.timezone),
                "version": policy.version,
                "source": policy.source,
            },
            "months": months,
        }

    return router
