"""HTTP API of properties and residences: register a property, declare move-ins and outs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from common.auth import Principal, requires
from common.commands import Command, command
from common.dates import Day
from common.errors import NotFound
from common.runtime import Runtime
from registration.adapters import residences_repository
from registration.app.access import READ, WRITE, authorize_property_access
from registration.app.residences import (
    DeclareMoveIn,
    EndResidence,
    Migrated,
    RegisterProperty,
    ResidenceService,
)
from registration.domain.residences import Room
from registration.events import Channel, ResidenceEndReason

PHONE_PATTERN = r"^1[3-9][0-9]{9}$"


class RoomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    room_no: str = Field(min_length=1, max_length=50)
    capacity: int = Field(ge=1, le=200)


class PropertyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str = Field(min_length=1, max_length=500)
    grid_id: str = Field(min_length=1, max_length=50)
    landlord_id: str = Field(min_length=1, max_length=100)
    rooms: list[RoomIn] = Field(min_length=1, max_length=2000)


class MigratedIn(BaseModel):
    """A declaration brought over from the office's previous records (admins only)."""

    model_config = ConfigDict(extra="forbid")
    declared_at: AwareDatetime = Field(description="When it was declared, on or after the move-in")
    channel: Channel = Field(description="How it was declared then")

    @model_validator(mode="after")
    def _plausible(self) -> MigratedIn:
        # before any record the office kept (and far from datetime's limits, which time
        # zone arithmetic would overflow)
        if not 1990 <= self.declared_at.year <= 9000:
            raise ValueError("declared_at must be a real declaration time")
        return self


class MoveInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(min_length=18, max_length=18, description="Resident identity number")
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    room_no: str = Field(min_length=1, max_length=50)
    moved_in_on: Day
    migrated: MigratedIn | None = None


class MoveOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    moved_out_on: Day
    reason: Annotated[
        ResidenceEndReason,
        Field(description="moved_out, or corrected for a residence declared in error"),
    ] = ResidenceEndReason.MOVED_OUT

    @model_validator(mode="after")
    def _not_moved_elsewhere(self) -> MoveOutIn:
        if self.reason is ResidenceEndReason.MOVED_ELSEWHERE:
            raise ValueError("moved_elsewhere is recorded by a move-in elsewhere, not declared")
        return self


def build_residences_router(runtime: Runtime, service: ResidenceService) -> APIRouter:
    router = APIRouter(tags=["registration"])
    sessions = runtime.sessionmaker

    @router.post("/properties", status_code=201, summary="Register a rental property")
    async def register_property(
        call: Annotated[Command, Depends(command(WRITE))],
        body: PropertyIn,
    ) -> JSONResponse:
        cmd = RegisterProperty(
            address=body.address,
            grid_id=body.grid_id,
            landlord_id=body.landlord_id,
            rooms=[Room(r.room_no, r.capacity) for r in body.rooms],
        )
        return await call.run(
            body,
            lambda session: service.register_property(session, cmd, call.principal, call.trace),
        )

    @router.post(
        "/properties/{property_id}/residences",
        status_code=201,
        summary="Declare a move-in (self-declaration by the landlord, or by an officer)",
    )
    async def declare_move_in(
        call: Annotated[Command, Depends(command(WRITE))],
        property_id: Annotated[str, Path(max_length=36)],
        body: MoveInIn,
    ) -> JSONResponse:
        cmd = DeclareMoveIn(
            property_id=property_id,
            id_number=body.id_number,
            name=body.name,
            phone=body.phone,
            room_no=body.room_no,
            moved_in_on=body.moved_in_on,
            migrated=(
                Migrated(body.migrated.declared_at, body.migrated.channel)
                if body.migrated
                else None
            ),
        )
        return await call.run(
            body, lambda session: service.declare_move_in(session, cmd, call.principal, call.trace)
        )

    @router.post(
        "/properties/{property_id}/residences/{residence_id}/end",
        summary="Declare a move-out (or that a residence was declared in error)",
    )
    async def end_residence(
        call: Annotated[Command, Depends(command(WRITE))],
        property_id: Annotated[str, Path(max_length=36)],
        residence_id: Annotated[str, Path(max_length=36)],
        body: MoveOutIn,
    ) -> JSONResponse:
        cmd = EndResidence(property_id, residence_id, body.moved_out_on, body.reason)
        return await call.run(
            body, lambda session: service.end_residence(session, cmd, call.principal, call.trace)
        )

    @router.get("/properties/{property_id}", summary="A property, its rooms and occupants")
    async def get_property(
        property_id: str, principal: Annotated[Principal, Depends(requires(READ))]
    ) -> dict[str, Any]:
        async with sessions() as session:
            view = await residences_repository.property_view(session, property_id)
            if view is None:
                raise NotFound("property", property_id)
            await authorize_property_access(
                session,
                principal,
                property_id=view["property_id"],
                grid_id=view["grid_id"],
                landlord_id=view["landlord_id"],
            )
        return view

    return router
