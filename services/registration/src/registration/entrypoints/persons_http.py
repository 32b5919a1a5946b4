"""HTTP API of person records: read (masked unless revealed), correct, history; audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.auth import Principal, requires
from common.commands import Command, command
from common.errors import NotFound
from common.pii import PiiCipher, mask_id_number, mask_name, mask_phone, scrub_text
from common.runtime import Runtime
from registration.adapters import persons_repository
from registration.app.access import OFFICE_ROLES, PII_READ, PII_WRITE, authorize_reveal
from registration.app.persons import CorrectPerson
from registration.app.residences import ResidenceService
from registration.entrypoints.residences_http import PHONE_PATTERN

Reveal = Annotated[bool, Query(description="Unmasked values; needs pii:reveal")]
Reader = Annotated[Principal, Depends(requires(PII_READ, roles=OFFICE_ROLES))]


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


def identity_view(cipher: PiiCipher, row: Any, *, reveal: bool) -> dict[str, Any]:
    """A person record's (or version's) identity, decrypted; masked unless revealed."""
    id_number, name = cipher.decrypt(row.id_number_enc), cipher.decrypt(row.name_enc)
    phone = cipher.decrypt(row.phone_enc) if row.phone_enc else None
    if not reveal:
        id_number, name = mask_id_number(id_number), mask_name(name)
        phone = mask_phone(phone) if phone else None
    return {
        "id_number": id_number,
        "name": name,
        "phone": phone,
        "gender": row.gender,
        "birth_date": row.birth_date,
        "origin_region": row.origin_region,
    }


def build_persons_router(runtime: Runtime, service: ResidenceService) -> APIRouter:
    router = APIRouter(tags=["registration"])
    sessions = runtime.sessionmaker
    cipher = service.cipher

    async def audited(
        session: Any, principal: Principal, request: Request, action: str, person_ref: str
    ) -> None:
        await persons_repository.audit(
            session,
            principal=principal.sub,
            role=principal.role,
            action=action,
            person_ref=person_ref,
            correlation_id=request.state.correlation_id,
            now=runtime.clock.now(),
        )

    @router.get("/persons/{person_ref}", summary="A person's record (personal data; audited)")
    async def get_person(
        person_ref: str, request: Request, principal: Reader, reveal: Reveal = False
    ) -> dict[str, Any]:
        authorize_reveal(principal, reveal)
        async with sessions() as session, session.begin():
            row = await persons_repository.load_by_ref(session, person_ref)
            if row is None:
                raise NotFound("person", person_ref)
            await audited(session, principal, request, "reveal" if reveal else "read", person_ref)
        return {"person_ref": row.person_ref, **identity_view(cipher, row, reveal=reveal)}

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
        person_ref: str, request: Request, principal: Reader, reveal: Reveal = False
    ) -> dict[str, Any]:
        authorize_reveal(principal, reveal)
        async with sessions() as session, session.begin():
            rows = await persons_repository.history(session, person_ref)
            if not rows:
                raise NotFound("person", person_ref)
            action = "history_reveal" if reveal else "history"
            await audited(session, principal, request, action, person_ref)
        versions = []
        for row in rows:
            reason = cipher.decrypt(row.reason_enc) if row.reason_enc else None
            if reason and not reveal:
                reason = scrub_text(reason)
            versions.append(
                {
                    "version": row.version,
                    "change": row.change,
                    "changed_fields": row.changed_fields,
                    **identity_view(cipher, row, reveal=reveal),
                    # Free text written by staff; numbers in it masked unless revealed.
                    "reason": reason,
                    "recorded_by": row.recorded_by,
                    "recorded_at": row.recorded_at,
                }
            )
        return {"person_ref": person_ref, "versions": versions}

    return router
