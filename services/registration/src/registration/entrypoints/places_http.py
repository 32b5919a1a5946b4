"""Places HTTP API: grids, parties, property managers, sweep discoveries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from common.auth import Principal, requires
from common.commands import Command, command
from common.errors import DomainError, NotFound
from common.guard import Offset
from common.runtime import Runtime
from registration.adapters import places_repository as repo
from registration.app.access import (
    OFFICE_ROLES,
    READ,
    WRITE,
    authorize_grid,
    authorize_party,
    authorize_property_access,
)
from registration.app.places import (
    AssignManager,
    PlacesService,
    RegisterGrid,
    RegisterParty,
    party_view,
)
from registration.domain.places import DiscoveryStatus, ManagerKind, PartyKind

GRID_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$"

Writer = Annotated[Principal, Depends(requires(WRITE))]
Reader = Annotated[Principal, Depends(requires(READ))]
Staff = Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))]
Limit = Annotated[int, Query(ge=1, le=1000)]


Action = Callable[[Any], Awaitable[tuple[int, Any]]]


class GridIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grid_id: str = Field(pattern=GRID_ID_PATTERN, description="The grid's code, e.g. G-01")
    name: str = Field(min_length=1, max_length=200)
    community: str = Field(min_length=1, max_length=100)
    grid_worker: str | None = Field(
        default=None, max_length=200, description="Account (token sub) of the grid worker"
    )


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: PartyKind
    person_ref: str | None = Field(
        default=None, max_length=40, description="kind person: a person on record already"
    )
    id_number: str | None = Field(
        default=None,
        min_length=18,
        max_length=18,
        description="kind person, instead of person_ref: resident identity number (with name)",
    )
    phone: str | None = Field(
        default=None, pattern=r"^1[3-9][0-9]{9}$", description="kind person by id_number"
    )
    credit_code: str | None = Field(
        default=None, max_length=40, description="kind organisation: unified social credit code"
    )
    name: str | None = Field(
        default=None,
        max_length=200,
        description="kind organisation: its name; kind person by id_number: the person's name",
    )


class ManagerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party_id: str = Field(min_length=1, max_length=100)
    kind: ManagerKind = Field(description="sublessor (二房東) or property_company (物業)")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    landlord_id: str = Field(min_length=1, max_length=100, description="The landlord's party id")


def check_party_fields(body: PartyIn) -> None:
    """Which fields each kind of party is given by; DomainError (422) on the field."""
    if body.kind is PartyKind.ORGANISATION:
        for name in ("person_ref", "id_number", "phone"):
            if getattr(body, name) is not None:
                raise DomainError(name, "an organisation is given by its credit code and name")
        return
    if body.credit_code is not None:
        raise DomainError("credit_code", "a person is given by person_ref or id_number")
    if (body.person_ref is None) == (body.id_number is None):
        raise DomainError("person_ref", "give a person either person_ref or id_number")
    if body.person_ref is not None and (body.name or body.phone):
        raise DomainError("name", "a person on record is given by person_ref only")
    if body.id_number is not None and not body.name:
        raise DomainError("name", "a person given by identity number needs their name")


def grid_view(row: Any) -> dict[str, Any]:
    return {
        "grid_id": row.id,
        "name": row.name,
        "community": row.community,
        "grid_worker": row.grid_worker,
        "registered_at": row.registered_at,
    }


def build_places_router(runtime: Runtime, places: PlacesService) -> APIRouter:
    router = APIRouter(tags=["places"])
    sessions = runtime.sessionmaker

    @router.post("/grids", status_code=201, summary="Register a grid (網格); administrators")
    async def register_grid(
        body: GridIn,
        call: Annotated[Command, Depends(command(WRITE, roles={"admin"}))],
    ) -> JSONResponse:
        cmd = RegisterGrid(body.grid_id, body.name, body.community, body.grid_worker)
        return await call.run(
            body, lambda session: places.register_grid(session, cmd, call.principal, call.trace)
        )

    @router.get("/grids", summary="Grids: all for administrators, the caller's own otherwise")
    async def list_grids(
        principal: Staff,
        community: Annotated[str | None, Query(max_length=100)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        only = None if principal.role == "admin" else principal.grids
        async with sessions() as session:
            total, rows = await repo.list_grids(
                session, community=community, only=only, limit=limit, offset=offset
            )
        return {"total": total, "grids": [grid_view(r) for r in rows]}

    @router.get("/grids/{grid_id}", summary="A grid; its staff and administrators")
    async def get_grid(
        grid_id: Annotated[str, Path(max_length=50)], principal: Staff
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        async with sessions() as session:
            row = await repo.load_grid(session, grid_id)
        if row is None:
            raise NotFound("grid", grid_id)
        return grid_view(row)

    @router.post(
        "/parties",
        status_code=201,
        summary="Register a party (landlord or manager): a person by person_ref or by "
        "identity number and name, or an organisation by credit code; 200 if it is "
        "registered already",
    )
    async def register_party(
        body: PartyIn, call: Annotated[Command, Depends(command(WRITE))]
    ) -> JSONResponse:
        check_party_fields(body)
        cmd = RegisterParty(
            body.kind, body.person_ref, body.credit_code, body.name, body.id_number, body.phone
        )
        return await call.run(
            body,
            lambda session: places.register_party(session, cmd, call.principal, call.trace),
            status_code=None,
        )

    @router.get("/parties/{party_id}", summary="A party; office staff or the party itself")
    async def get_party(
        party_id: Annotated[str, Path(max_length=100)], principal: Reader
    ) -> dict[str, Any]:
        authorize_party(principal, party_id)
        async with sessions() as session:
            party = await repo.load_party(session, party_id)
        if party is None:
            raise NotFound("party", party_id)
        return party_view(party)

    @router.post(
        "/properties/{property_id}/managers",
        status_code=201,
        summary="Mandate a manager (二房東 or 物業) for a property; the landlord or grid staff",
    )
    async def assign_manager(
        property_id: Annotated[str, Path(max_length=36)],
        body: ManagerIn,
        call: Annotated[Command, Depends(command(WRITE))],
    ) -> JSONResponse:
        cmd = AssignManager(property_id, body.party_id, body.kind)
        return await call.run(
            body, lambda session: places.assign_manager(session, cmd, call.principal, call.trace)
        )

    @router.get("/properties/{property_id}/managers", summary="A property's managers")
    async def list_managers(
        property_id: Annotated[str, Path(max_length=36)],
        principal: Reader,
        include_removed: Annotated[bool, Query(description="Past mandates too")] = False,
    ) -> dict[str, Any]:
        async with sessions() as session:
            prop = await repo.load_property(session, property_id)
            if prop is None:
                raise NotFound("property", property_id)
            await authorize_property_access(
                session,
                principal,
                property_id=prop.id,
                grid_id=prop.grid_id,
                landlord_id=prop.landlord_id,
            )
            rows = await repo.managers_of(session, property_id, include_removed=include_removed)
        return {
            "property_id": property_id,
            "landlord_id": prop.landlord_id,
            "managers": [
                {
                    "party_id": r.party_id,
                    "party_kind": r.party_kind,
                    "name": r.name,
                    "kind": r.kind,
                    "assigned_at": r.assigned_at,
                    "removed_at": r.removed_at,
                }
                for r in rows
            ],
        }

    @router.delete(
        "/properties/{property_id}/managers/{party_id}",
        summary="End a manager's mandate; the landlord, grid staff or the manager itself",
    )
    async def remove_manager(
        property_id: Annotated[str, Path(max_length=36)],
        party_id: Annotated[str, Path(max_length=100)],
        call: Annotated[Command, Depends(command(WRITE))],
    ) -> JSONResponse:
        return await call.run(
            {},
            lambda session: places.remove_manager(
                session, property_id, party_id, call.principal, call.trace
            ),
        )

    @router.get(
        "/discoveries",
        summary="Buildings found on inspection sweeps, by grid (pending ones wait for a landlord)",
    )
    async def list_discoveries(
        principal: Staff,
        grid_id: Annotated[str, Query(max_length=50)],
        status: DiscoveryStatus | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        authorize_grid(principal, grid_id)
        async with sessions() as session:
            total, rows = await repo.list_discoveries(
                session,
                grid_id=grid_id,
                status=status.value if status else None,
                limit=limit,
                offset=offset,
            )
        return {
            "grid_id": grid_id,
            "total": total,
            "discoveries": [
                {
                    "discovery_id": r.discovery_id,
                    "sweep_id": r.sweep_id,
                    "address": r.address,
                    "rooms": r.rooms,
                    "landlord_hint": r.landlord_hint,
                    "discovered_at": r.discovered_at,
                    "officer": r.officer,
                    "status": r.status,
                    "property_id": r.property_id,
                    "reason": r.reason,
                }
                for r in rows
            ],
        }

    @router.post(
        "/discoveries/{discovery_id}/confirm",
        summary="Name the landlord of a pending discovery: the property is registered",
    )
    async def confirm_discovery(
        discovery_id: Annotated[str, Path(max_length=100)],
        body: ConfirmIn,
        call: Annotated[Command, Depends(command(WRITE, roles=OFFICE_ROLES))],
    ) -> JSONResponse:
        return await call.run(
            body,
            lambda session: places.confirm_discovery(
                session, discovery_id, body.landlord_id, call.principal, call.trace
            ),
        )

    return router
