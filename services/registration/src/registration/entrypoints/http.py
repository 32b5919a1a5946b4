"""Registration's HTTP API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import insert, select

from common.auth import Principal, requires
from common.commands import Command, command
from common.errors import NotFound
from common.pii import mask_id_number, mask_name, mask_phone, scrub_text
from common.runtime import Runtime
from registration.adapters import person_repository
from registration.adapters.tables import (
    grid_month_figures,
    persons,
    pii_access_log,
    properties,
    residences,
    rooms,
)
from registration.app.handlers import (
    OFFICE_ROLES,
    DeclareMoveIn,
    EndResidence,
    RegisterProperty,
    RegistrationService,
    authorize_property_or_manager,
)
from registration.app.persons import CorrectPerson
from registration.domain.model import Room
from registration.events import ResidenceEndReason

WRITE = "registration:write"
READ = "registration:read"
PII_READ = "pii:read"
PII_REVEAL = "pii:reveal"
PII_WRITE = "pii:write"
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


class MoveInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(min_length=18, max_length=18, description="Resident identity number")
    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=r"^1[3-9][0-9]{9}$")
    room_no: str = Field(min_length=1, max_length=50)
    moved_in_on: date


class MoveOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    moved_out_on: date
    reason: Annotated[
        ResidenceEndReason,
        Field(description="moved_out, or corrected for a residence declared in error"),
    ] = ResidenceEndReason.MOVED_OUT

    @model_validator(mode="after")
    def _not_moved_elsewhere(self) -> MoveOutIn:
        if self.reason is ResidenceEndReason.MOVED_ELSEWHERE:
            raise ValueError("moved_elsewhere is recorded by a move-in elsewhere, not declared")
        return self


class PersonCorrectionIn(BaseModel):
    """Fields to correct; absent fields stay as they are, ``phone: null`` removes the phone."""

    model_config = ConfigDict(extra="forbid")
    id_number: str | None = Field(
        default=None, min_length=18, max_length=18, description="The correct identity number"
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    reason: str = Field(min_length=1, max_length=500, description="Why (kept in the history)")

    @model_validator(mode="after")
    def _something_to_correct(self) -> PersonCorrectionIn:
        if not self.model_fields_set & {"id_number", "name", "phone"}:
            raise ValueError("give at least one of id_number, name, phone")
        return self


def build_router(runtime: Runtime, service: RegistrationService) -> APIRouter:
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
            prop = (
                await session.execute(select(properties).where(properties.c.id == property_id))
            ).first()
            if prop is None:
                raise NotFound("property", property_id)
            await authorize_property_or_manager(
                session, principal, prop.id, prop.grid_id, prop.landlord_id
            )
            room_rows = (
                await session.execute(
                    select(rooms)
                    .where(rooms.c.property_id == property_id)
                    .order_by(rooms.c.room_no)
                )
            ).all()
            occupants = (
                await session.execute(
                    select(residences)
                    .where(residences.c.property_id == property_id, residences.c.ended_on.is_(None))
                    .order_by(residences.c.declared_at)
                )
            ).all()
        return {
            "property_id": prop.id,
            "address": prop.address,
            "grid_id": prop.grid_id,
            "landlord_id": prop.landlord_id,
            "registered_at": prop.registered_at,
            "rooms": [{"room_no": r.room_no, "capacity": r.capacity} for r in room_rows],
            "residences": [
                {
                    "residence_id": o.id,
                    "person_ref": o.person_ref,
                    "room_no": o.room_no,
                    "moved_in_on": o.moved_in_on,
                    "declared_at": o.declared_at,
                    "on_time": o.on_time,
                    "channel": o.channel,
                    "over_capacity": o.over_capacity,
                }
                for o in occupants
            ],
        }

    @router.get("/persons/{person_ref}", summary="A person's record (personal data; audited)")
    async def get_person(
        person_ref: str,
        request: Request,
        principal: Annotated[Principal, Depends(requires(PII_READ, roles=OFFICE_ROLES))],
        reveal: Annotated[bool, Query(description="Unmasked values; needs pii:reveal")] = False,
    ) -> dict[str, Any]:
        if reveal and not principal.has_scope(PII_REVEAL):
            raise HTTPException(403, f"scope {PII_REVEAL!r} required to reveal personal data")
        async with sessions() as session, session.begin():
            row = (
                await session.execute(select(persons).where(persons.c.person_ref == person_ref))
            ).first()
            if row is None:
                raise NotFound("person", person_ref)
            await session.execute(
                insert(pii_access_log).values(
                    at=runtime.clock.now(),
                    principal=principal.sub,
                    role=principal.role,
                    action="reveal" if reveal else "read",
                    person_ref=person_ref,
                    correlation_id=request.state.correlation_id,
                )
            )
        id_number = service.cipher.decrypt(row.id_number_enc)
        name = service.cipher.decrypt(row.name_enc)
        phone = service.cipher.decrypt(row.phone_enc) if row.phone_enc else None
        if not reveal:
            id_number, name = mask_id_number(id_number), mask_name(name)
            phone = mask_phone(phone) if phone else None
        return {
            "person_ref": row.person_ref,
            "id_number": id_number,
            "name": name,
            "phone": phone,
            "gender": row.gender,
            "birth_date": row.birth_date,
            "origin_region": row.origin_region,
        }

    @router.patch(
        "/persons/{person_ref}",
        summary="Correct a person's name, phone or identity number (kept as history; audited)",
    )
    async def correct_person(
        call: Annotated[Command, Depends(command(PII_WRITE, roles=OFFICE_ROLES))],
        person_ref: Annotated[str, Path(max_length=40)],
        body: PersonCorrectionIn,
    ) -> JSONResponse:
        given = body.model_dump(exclude_unset=True)
        cmd = CorrectPerson(
            person_ref=person_ref,
            reason=body.reason,
            id_number=body.id_number,
            name=body.name,
            phone=body.phone,
            clear_phone="phone" in given and body.phone is None,
        )
        return await call.run(
            given, lambda session: service.correct_person(session, cmd, call.principal, call.trace)
        )

    @router.get(
        "/persons/{person_ref}/history",
        summary="Every version of a person's record, with who changed it, when and why (audited)",
    )
    async def person_history(
        person_ref: str,
        request: Request,
        principal: Annotated[Principal, Depends(requires(PII_READ, roles=OFFICE_ROLES))],
        reveal: Annotated[bool, Query(description="Unmasked values; needs pii:reveal")] = False,
    ) -> dict[str, Any]:
        if reveal and not principal.has_scope(PII_REVEAL):
            raise HTTPException(403, f"scope {PII_REVEAL!r} required to reveal personal data")
        async with sessions() as session, session.begin():
            rows = await person_repository.history(session, person_ref)
            if not rows:
                raise NotFound("person", person_ref)
            await person_repository.audit(
                session,
                principal=principal.sub,
                role=principal.role,
                action="history_reveal" if reveal else "history",
                person_ref=person_ref,
                correlation_id=request.state.correlation_id,
                now=runtime.clock.now(),
            )
        cipher = service.cipher
        versions = []
        for row in rows:
            id_number, name = cipher.decrypt(row.id_number_enc), cipher.decrypt(row.name_enc)
            phone = cipher.decrypt(row.phone_enc) if row.phone_enc else None
            reason = cipher.decrypt(row.reason_enc) if row.reason_enc else None
            if not reveal:
                id_number, name = mask_id_number(id_number), mask_name(name)
                phone = mask_phone(phone) if phone else None
                reason = scrub_text(reason) if reason else None
            versions.append(
                {
                    "version": row.version,
                    "change": row.change,
                    "changed_fields": row.changed_fields,
                    "id_number": id_number,
                    "name": name,
                    "phone": phone,
                    "gender": row.gender,
                    "birth_date": row.birth_date,
                    "origin_region": row.origin_region,
                    # Free text written by staff; numbers in it masked unless revealed.
                    "reason": reason,
                    "recorded_by": row.recorded_by,
                    "recorded_at": row.recorded_at,
                }
            )
        return {"person_ref": person_ref, "versions": versions}

    @router.get("/figures/grids/{grid_id}", summary="A grid's monthly declaration figures")
    async def grid_figures(
        grid_id: str,
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
        month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
    ) -> dict[str, Any]:
        if not principal.covers_grid(grid_id):
            raise HTTPException(403, f"grid {grid_id} is outside the caller's grids")
        async with sessions() as session:
            row = (
                await session.execute(
                    select(grid_month_figures).where(
                        grid_month_figures.c.grid_id == grid_id,
                        grid_month_figures.c.month == month,
                    )
                )
            ).first()
        declarations = row.declarations if row else 0
        self_declared = row.self_declared if row else 0
        return {
            "grid_id": grid_id,
            "month": month,
            "declarations": declarations,
            "self_declared": self_declared,
            "on_time": row.on_time if row else 0,
            "over_capacity": row.over_capacity if row else 0,
            "self_declaration_rate": round(self_declared / declarations, 4)
            if declarations
            else None,
        }

    return router
