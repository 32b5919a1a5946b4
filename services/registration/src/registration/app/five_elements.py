"""Five-elements lists (五大要素): suspected residents by address, as CSV, checked line by line.

The municipal big-data platform filters its people/places/houses data into lists of
people who probably live somewhere without being registered there, and sends them back
to the community office to verify. Format (UTF-8, a byte-order mark is allowed;
``charset=gb18030``/``gbk`` in the Content-Type for files saved by Chinese Excel)::

    id_number,name,address,property_id
    440306199001011236,王小明,,3b0a6a1e-...
    44030619920304567X,李四,"Lane 3, No. 12",

``property_id`` is registration's id of the building; when the platform only knows the
address it is empty and the address is matched exactly (after normalisation, see
:func:`registration.domain.reconciliation.normalise_address`) against registered
properties. ``name`` is required for a well-formed line but not kept. Blank lines are
skipped.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.csvfile import RowError, read_table
from common.envelope import Trace
from common.errors import DomainError
from common.identity import ResidentId
from common.pii import PiiCipher, mask_id_number
from registration.adapters import reconciliation_repository as repo
from registration.app.leads import Candidate, Leads
from registration.domain.reconciliation import (
    LeadPolicy,
    listing_warrants_lead,
    normalise_address,
    summarise,
)
from registration.events import LeadSource

HEADER = ("id_number", "name", "address", "property_id")
MAX_NAME, MAX_ADDRESS, MAX_PROPERTY_ID = 100, 500, 36


@dataclass(frozen=True)
class ListLine:
    line: int
    person: ResidentId
    property_id: str | None
    address_norm: str | None


@dataclass(frozen=True)
class FiveElementsList:
    sha256: str
    rows: int
    lines: list[ListLine]
    errors: list[RowError]

    def report_errors(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.errors]


def parse(text: str, *, max_rows: int, today: date) -> FiveElementsList:
    """Check the header and every line; properties are resolved when the list is applied."""
    table = read_table(text, HEADER, max_rows=max_rows, per="list")
    lines: list[ListLine] = []
    errors = list(table.errors)
    for line, (id_number, name, address, property_id) in table.lines:
        try:
            if not id_number:
                raise DomainError("id_number", "is required")
            person = ResidentId.parse(id_number, today=today)
            if not name:
                raise DomainError("name", "is required")
            if len(name) > MAX_NAME:
                raise DomainError("name", f"at most {MAX_NAME} characters")
            if len(address) > MAX_ADDRESS:
                raise DomainError("address", f"at most {MAX_ADDRESS} characters")
            if len(property_id) > MAX_PROPERTY_ID:
                raise DomainError("property_id", f"at most {MAX_PROPERTY_ID} characters")
            if not property_id and not address:
                raise DomainError("address", "an address or a property_id is required")
        except DomainError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        lines.append(
            ListLine(
                line=line,
                person=person,
                property_id=property_id or None,
                address_norm=None if property_id else normalise_address(address),
            )
        )
    return FiveElementsList(sha256=table.sha256, rows=table.rows, lines=lines, errors=errors)


async def apply_list(
    session: AsyncSession,
    parsed: FiveElementsList,
    principal: Principal,
    trace: Trace,
    *,
    cipher: PiiCipher,
    policy: LeadPolicy,
    leads: Leads,
) -> tuple[int, dict[str, Any]]:
    """Each listed person without an active residence at the property becomes a lead."""
    prior = await repo.list_by_content(session, parsed.sha256)
    if prior is not None:
        return 200, {**prior.report, "already_applied": True}
    list_id = str(uuid.uuid4())
    errors = list(parsed.errors)
    by_id = await repo.properties_by_id(
        session, [ln.property_id for ln in parsed.lines if ln.property_id]
    )
    by_address = await repo.properties_by_address(
        session, [ln.address_norm for ln in parsed.lines if ln.address_norm]
    )
    resolved: list[tuple[ListLine, str, str, str]] = []  # line, hash, property, grid
    for ln in parsed.lines:
        try:
            property_id, grid_id = _resolve(ln, by_id, by_address)
            if principal.role != "system" and not principal.covers_grid(grid_id):
                raise DomainError("property_id", f"grid {grid_id} is outside the caller's grids")
        except DomainError as exc:
            errors.append(RowError(ln.line, exc.field, exc.message))
            continue
        resolved.append((ln, cipher.keyed_hash(ln.person.value), property_id, grid_id))
    refs = await repo.person_refs(session, [h for _, h, _, _ in resolved])
    residing = await repo.active_residence_pairs(
        session, [(refs[h], p) for _, h, p, _ in resolved if h in refs]
    )
    pairs = [(h, p) for _, h, p, _ in resolved]
    open_pairs = await repo.open_lead_pairs(session, pairs)
    today = policy.local_day(leads.clock.now())
    by_day = await repo.sightings_by_day(session, pairs, policy.window_start(today))
    counts: Counter[str] = Counter()
    candidates: list[Candidate] = []
    for ln, h, p, grid in resolved:
        ref = refs.get(h)
        registered = ref is not None and (ref, p) in residing
        if not listing_warrants_lead(
            has_active_residence=registered, has_open_lead=(h, p) in open_pairs
        ):
            counts["registered" if registered else "already_open"] += 1
            continue
        open_pairs.add((h, p))  # listed twice in the file: one lead
        candidates.append(
            Candidate(
                h,
                p,
                grid,
                ref,
                mask_id_number(ln.person.value),
                summarise(by_day.get((h, p), []), policy=policy, today=today),
                LeadSource.FIVE_ELEMENTS,
                list_id=list_id,
            )
        )
    opened = await leads.open(session, candidates, trace)
    counts["already_open"] += len(candidates) - opened
    errors.sort(key=lambda e: e.line)
    report = {
        "list_id": list_id,
        "rows": parsed.rows,
        "valid": len(resolved),
        "rejected": len(errors),
        "registered": counts["registered"],
        "already_open": counts["already_open"],
        "leads_opened": opened,
        "errors": [e.as_dict() for e in errors],
    }
    if resolved:  # a list that resolved nothing is not remembered: it may be sent again
        await repo.record_list(
            session,
            id=list_id,
            content_sha256=parsed.sha256,
            rows=parsed.rows,
            valid=len(resolved),
            rejected=len(errors),
            leads_opened=opened,
            report=report,
            uploaded_by=principal.sub,
            uploaded_at=leads.clock.now(),
        )
    return 201, {**report, "already_applied": False}


def _resolve(
    ln: ListLine, by_id: dict[str, str], by_address: dict[str, list[tuple[str, str]]]
) -> tuple[str, str]:
    if ln.property_id is not None:
        grid = by_id.get(ln.property_id)
        if grid is None:
            raise DomainError("property_id", "no registered property has this id")
        return ln.property_id, grid
    assert ln.address_norm is not None
    matches = by_address.get(ln.address_norm, [])
    if not matches:
        raise DomainError("address", "no registered property has this address")
    if len(matches) > 1:
        raise DomainError(
            "address",
            f"{len(matches)} registered properties have this address; give property_id",
        )
    return matches[0]
