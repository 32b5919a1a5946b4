"""Reconciliation HTTP API: the feeds (access control, five-elements lists) and the leads."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from common.auth import Principal, requires
from common.commands import Command, command
from common.csvfile import TooManyRows
from common.errors import DomainError, Forbidden, NotFound
from common.guard import Offset
from common.runtime import Runtime
from common.uploads import decode_text, read_body, too_large
from registration.adapters import reconciliation_repository as repo
from registration.app import five_elements
from registration.app.access import FEED_ROLES, FEEDS_WRITE, LIST_ROLES, OFFICE_ROLES, READ
from registration.app.reconciliation import (
    ACCESS_ENTRIES,
    AccessEntryIn,
    ReconciliationService,
    validation_problem,
)
from registration.domain.reconciliation import AccessEntry

ENTRIES_DOC = (
    'Body: `application/json`, `{"entries": [...]}`; each entry `device_id`, `property_id`, '
    "optional `room_no`, `id_number` (from a card or face match) or `face_token` (an "
    "unmatched face), `direction` (`in`|`out`), `at` (ISO 8601 with its UTC offset). Valid "
    "entries are applied; each invalid one is reported with its index, field and reason. "
    "The same entry (device, instant, person) sent again is counted once."
)
LIST_DOC = (
    "Body: `text/csv` (UTF-8; `; charset=gb18030` for Chinese Excel files), header "
    "`id_number,name,address,property_id`; `property_id` may be empty, then the address "
    "is matched exactly (normalised) against registered properties. Each listed person "
    "without an active residence at the property becomes a lead. Every invalid line is "
    "reported with its line number, field and reason. The same content sent again (any "
    "key) is recognised and not applied twice (200, `already_applied`)."
)


def _unprocessable(loc: list[str | int], message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": loc, "msg": message, "type": "value_error"}],
    )


def lead_view(row: Any) -> dict[str, Any]:
    """A lead as the office sees it: pseudonymous, masked identity only."""
    return {
        "lead_id": row.id,
        "property_id": row.property_id,
        "grid_id": row.grid_id,
        "subject_ref": row.subject_ref,
        "person_ref": row.person_ref,
        "id_number_masked": row.id_number_masked,
        "source": row.source,
        "status": row.status,
        "outcome": row.outcome,
        "evidence": {
            "sightings": row.sightings,
            "distinct_days": row.distinct_days,
            "first_seen": repo.as_utc(row.first_seen) if row.first_seen else None,
            "last_seen": repo.as_utc(row.last_seen) if row.last_seen else None,
            "window_start": row.window_start,
            "window_days": row.window_days,
            "list_id": row.list_id,
        },
        "policy_version": row.policy_version,
        "opened_at": repo.as_utc(row.opened_at),
        "closed_at": repo.as_utc(row.closed_at) if row.closed_at else None,
        "closed_by": row.closed_by,
        "verification_id": row.verification_id,
        "residence_id": row.residence_id,
        "registration_needed": row.registration_needed,
    }


def build_reconciliation_router(
    runtime: Runtime,
    service: ReconciliationService,
    *,
    max_entries: int,
    max_entry_bytes: int,
    list_max_rows: int,
    list_max_bytes: int,
) -> APIRouter:
    router = APIRouter(tags=["reconciliation"])
    sessions = runtime.sessionmaker

    @router.post(
        "/feeds/access-control/entries",
        summary="A batch of smart access-control entries (智能門禁)",
        description=ENTRIES_DOC,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "entries": {
                                    "type": "array",
                                    "items": AccessEntryIn.model_json_schema(),
                                    "maxItems": max_entries,
                                }
                            },
                            "required": ["entries"],
                        }
                    }
                },
            }
        },
    )
    async def post_entries(
        call: Annotated[Command, Depends(command(FEEDS_WRITE, roles=FEED_ROLES))],
    ) -> JSONResponse:
        body = await read_body(
            call.request, "application/json", max_entry_bytes, advice="split the batch"
        )
        content = body.content
        try:
            document = json.loads(content)
        except ValueError as exc:
            raise _unprocessable(["body"], f"is not JSON: {exc.args[0][:100]}") from None
        items = document.get("entries") if isinstance(document, dict) else None
        if not isinstance(items, list):
            raise _unprocessable(["body", "entries"], "an object with a list `entries` is required")
        if not items:
            raise _unprocessable(["body", "entries"], "the batch is empty")
        if len(items) > max_entries:
            raise too_large(f"at most {max_entries} entries per request; split the batch")
        now = runtime.clock.now()
        valid: list[AccessEntry] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            try:
                valid.append(service.to_entry(AccessEntryIn.model_validate(item), now))
            except ValidationError as exc:
                field, reason = validation_problem(exc)
                errors.append({"index": index, "field": field, "reason": reason})
            except DomainError as exc:
                errors.append({"index": index, "field": exc.field, "reason": exc.message})
        ACCESS_ENTRIES.labels("http", "rejected").inc(len(errors))
        if not valid:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [
                    {
                        "loc": ["body", "entries", e["index"], *e["field"].split(".")],
                        "msg": e["reason"],
                        "type": "invalid_entry",
                    }
                    for e in errors[:100]
                ],
            )

        async def ingest(session: Any) -> dict[str, Any]:
            result = await service.ingest(session, valid, call.trace, channel="http")
            return {
                "received": len(items),
                "accepted": len(valid),
                "rejected": len(errors),
                "applied": result.applied,
                "duplicates": result.duplicates,
                "leads_opened": result.leads_opened,
                "errors": errors,
            }

        response = await call.run({"content_sha256": hashlib.sha256(content).hexdigest()}, ingest)
        await service.purge_if_due(sessions)
        return response

    @router.post(
        "/feeds/five-elements/lists",
        status_code=201,
        summary="A five-elements list of suspected residents (五大要素)",
        description=LIST_DOC,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        },
    )
    async def post_list(
        call: Annotated[Command, Depends(command(FEEDS_WRITE, roles=LIST_ROLES))],
    ) -> JSONResponse:
        upload = await read_body(call.request, "text/csv", list_max_bytes, advice="split the list")
        try:
            parsed = five_elements.parse(
                decode_text(upload.content, upload.charset),
                max_rows=list_max_rows,
                today=service.policy.local_day(runtime.clock.now()),
            )
        except TooManyRows as exc:
            raise too_large(str(exc)) from None
        return await call.run(
            {"content_sha256": parsed.sha256},
            lambda session: service.apply_five_elements(
                session, parsed, call.principal, call.trace
            ),
            status_code=None,
        )

    @router.get("/leads", summary="Leads of the caller's grids (or one grid), newest first")
    async def list_leads(
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
        grid_id: Annotated[str | None, Query(max_length=50)] = None,
        lead_status: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        grids: list[str] | None
        if grid_id is not None:
            if not principal.covers_grid(grid_id):
                raise Forbidden(f"grid {grid_id} is outside the caller's grids")
            grids = [grid_id]
        else:
            grids = None if principal.role == "admin" else sorted(principal.grids)
        async with sessions() as session:
            total, rows = await repo.find_leads(
                session, grids=grids, status=lead_status, limit=limit, offset=offset
            )
        return {
            "total": total,
            "limit": limit,
            "offset": offset,
            "leads": [lead_view(r) for r in rows],
        }

    @router.get("/leads/{lead_id}", summary="One lead with its evidence and outcome")
    async def get_lead(
        lead_id: Annotated[str, Path(max_length=36)],
        principal: Annotated[Principal, Depends(requires(READ, roles=OFFICE_ROLES))],
    ) -> dict[str, Any]:
        async with sessions() as session:
            row = await repo.lead_by_id(session, lead_id)
        if row is None:
            raise NotFound("lead", lead_id)
        if not principal.covers_grid(row.grid_id):
            raise Forbidden(f"grid {row.grid_id} is outside the caller's grids")
        return lead_view(row)

    return router
