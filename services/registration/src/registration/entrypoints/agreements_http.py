"""Responsibility agreements HTTP API, and who has none in force (included by places_http)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day
from common.errors import DomainError, NotFound
from common.guard import Offset
from common.runtime import Runtime
from registration.adapters import agreements_repository as repo
from registration.adapters import places_repository
from registration.app.access import (
    OFFICE_ROLES,
    READ,
    WRITE,
    authorize_employer,
    authorize_grid,
    authorize_property_access,
)
from registration.app.agreements import AgreementService, RenewAgreement, SignAgreement
from registration.domain.agreements import AgreementKind, AgreementStatus, Terms

Reader = Annotated[Principal, Depends(requires(READ))]
Staff = Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))]
StaffWriter = Annotated[Principal, Depends(requires(WRITE, roles=OFFICE_ROLES))]
AgreementId = Annotated[str, Path(max_length=36)]
GridQuery = Annotated[str, Query(max_length=50)]
Limit = Annotated[int, Query(ge=1, le=1000)]


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: AgreementKind
    property_id: str | None = Field(
        default=None, max_length=36, description="landlord and tenant kinds"
    )
    employer_id: str | None = Field(default=None, max_length=36, description="employer kind")
    signatory_party_id: str | None = Field(
        default=None,
        max_length=100,
        description="landlord kind: the landlord (default) or a manager; tenant kind: the "
        "tenant's person_ref (required); employer kind: the employer's credit code (default)",
    )
    counterpart_office: str = Field(min_length=1, max_length=200)
    signed_on: Day
    valid_from: Day
    valid_until: Day = Field(description="Last day in force")


class RenewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counterpart_office: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: the renewed one's"
    )
    signed_on: Day
    valid_from: Day
    valid_until: Day


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


def _subject_fields(body: AgreementIn) -> None:
    """The subject matches the kind (422 naming the field otherwise)."""
    if body.kind is AgreementKind.EMPLOYER:
        if not body.employer_id:
            raise DomainError("employer_id", "an employer agreement names the employer")
        if body.property_id:
            raise DomainError("property_id", "an employer agreement is not about a property")
    else:
        if not body.property_id:
            raise DomainError("property_id", f"a {body.kind} agreement names the property")
        if body.employer_id:
            raise DomainError("employer_id", f"a {body.kind} agreement is not about an employer")


def _last(row: Any) -> dict[str, Any] | None:
    if row.last_status is None:
        return None
    return {"status": row.last_status, "valid_until": row.last_valid_until}


def agreement_row_view(row: Any, today: date) -> dict[str, Any]:
    return {
        "agreement_id": row.id,
        "kind": row.kind,
        "status": row.status,
        "in_force": row.status == AgreementStatus.ACTIVE.value
        and row.valid_from <= today <= row.valid_until,
        "signatory_party_id": row.signatory_party_id,
        "counterpart_office": row.counterpart_office,
        "property_id": row.property_id,
        "employer_id": row.employer_id,
        "grid_id": row.grid_id,
        "signed_on": row.signed_on,
        "valid_from": row.valid_from,
        "valid_until": row.valid_until,
        "supersedes": row.supersedes,
        "superseded_by": row.superseded_by,
        "revoked_reason": row.revoked_reason,
        "recorded_at": row.recorded_at,
        "status_changed_at": row.status_changed_at,
    }


def build_agreements_router(runtime: Runtime, service: AgreementService) -> APIRouter:
    router = APIRouter(tags=["agreements"])
    sessions = runtime.sessionmaker

    def today() -> date:
        return service.policy.local_date(runtime.clock.now())

    async def authorize_reader(
        session: Any, principal: Principal, property_id: str | None, employer_id: str | None
    ) -> None:
        if property_id is not None:
            prop = await places_repository.load_property(session, property_id)
            if prop is None:
                raise NotFound("property", property_id)
            await authorize_property_access(
                session,
                principal,
                property_id=prop.id,
                grid_id=prop.grid_id,
                landlord_id=prop.landlord_id,
            )
        else:
            employer = await repo.load_employer_row(session, employer_id or "")
            if employer is None:
                raise NotFound("employer", employer_id or "")
            authorize_employer(
                principal, grid_id=employer.grid_id, credit_code=employer.credit_code
            )

    @router.post(
        "/agreements",
        status_code=201,
        summary="Record a responsibility agreement (責任書) signed with the office",
    )
    async def sign_agreement(
        body: AgreementIn, call: Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))]
    ) -> JSONResponse:
        _subject_fields(body)
        cmd = SignAgreement(
            kind=body.kind,
            property_id=body.property_id,
            employer_id=body.employer_id,
            signatory_party_id=body.signatory_party_id,
            terms=Terms(body.counterpart_office, body.signed_on, body.valid_from, body.valid_until),
        )
        return await call.run(
            body, lambda session: service.sign(session, cmd, call.principal, call.trace)
        )

    @router.get(
        "/agreements",
        summary="A property's or an employer's agreements (one of the two), newest first",
    )
    async def list_agreements(
        principal: Reader,
        property_id: Annotated[str | None, Query(max_length=36)] = None,
        employer_id: Annotated[str | None, Query(max_length=36)] = None,
        status_: Annotated[AgreementStatus | None, Query(alias="status")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        if (property_id is None) == (employer_id is None):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [
                    {
                        "loc": ["query", "property_id" if property_id is None else "employer_id"],
                        "msg": "give exactly one of property_id and employer_id",
                        "type": "value_error",
                    }
                ],
            )
        async with sessions() as session:
            await authorize_reader(session, principal, property_id, employer_id)
            total, rows = await repo.list_agreements(
                session,
                property_id=property_id,
                employer_id=employer_id,
                status=status_.value if status_ else None,
                limit=limit,
                offset=offset,
            )
        day = today()
        return {
            "property_id": property_id,
            "employer_id": employer_id,
            "total": total,
            "agreements": [agreement_row_view(r, day) for r in rows],
        }

    @router.get("/agreements/{agreement_id}", summary="One agreement")
    async def get_agreement(agreement_id: AgreementId, principal: Reader) -> dict[str, Any]:
        async with sessions() as session:
            found = await repo.agreement_row(session, agreement_id)
            if found is None:
                raise NotFound("agreement", agreement_id)
            await authorize_reader(session, principal, found.property_id, found.employer_id)
        return agreement_row_view(found, today())

    @router.post(
        "/agreements/{agreement_id}/renew",
        status_code=201,
        summary="Renew: a new agreement for the same subject supersedes this one",
    )
    async def renew_agreement(
        agreement_id: AgreementId,
        body: RenewIn,
        call: Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))],
    ) -> JSONResponse:
        cmd = RenewAgreement(
            agreement_id, body.counterpart_office, body.signed_on, body.valid_from, body.valid_until
        )
        return await call.run(
            body, lambda session: service.renew(session, cmd, call.principal, call.trace)
        )

    @router.post("/agreements/{agreement_id}/revoke", summary="Revoke an active agreement")
    async def revoke_agreement(
        agreement_id: AgreementId,
        body: RevokeIn,
        call: Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))],
    ) -> JSONResponse:
        return await call.run(
            body,
            lambda session: service.revoke(
                session, agreement_id, body.reason, call.principal, call.trace
            ),
        )

    @router.get(
        "/properties/without-agreement",
        summary="The grid's properties with no landlord agreement in force today",
    )
    async def properties_without_agreement(
        principal: Staff, grid_id: GridQuery, limit: Limit = 100, offset: Offset = 0
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        day = today()
        async with sessions() as session:
            total, rows = await repo.properties_without_agreement(
                session, grid_id=grid_id, today=day, limit=limit, offset=offset
            )
        return {
            "grid_id": grid_id,
            "as_of": day,
            "total": total,
            "properties": [
                {
                    "property_id": r.id,
                    "address": r.address,
                    "landlord_id": r.landlord_id,
                    "channel": r.channel,
                    "registered_at": r.registered_at,
                    "last_agreement": _last(r),
                }
                for r in rows
            ],
        }

    @router.get(
        "/employers/without-agreement",
        summary="The grid's employers with no employer agreement in force today",
    )
    async def employers_without_agreement(
        principal: Staff, grid_id: GridQuery, limit: Limit = 100, offset: Offset = 0
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        day = today()
        async with sessions() as session:
            total, rows = await repo.employers_without_agreement(
                session, grid_id=grid_id, today=day, limit=limit, offset=offset
            )
        return {
            "grid_id": grid_id,
            "as_of": day,
            "total": total,
            "employers": [
                {
                    "employer_id": r.id,
                    "credit_code": r.credit_code,
                    "name": r.name,
                    "address": r.address,
                    "registered_at": r.registered_at,
                    "last_agreement": _last(r),
                }
                for r in rows
            ],
        }

    return router
