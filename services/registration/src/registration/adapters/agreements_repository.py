"""Loading and saving responsibility agreements; who is not covered by one (Core)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registration.adapters.agreements_tables import agreements
from registration.adapters.employment_repository import as_utc
from registration.adapters.employment_tables import employers
from registration.adapters.residences_tables import properties, residences
from registration.domain.agreements import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Subject,
    Terms,
)

ACTIVE = AgreementStatus.ACTIVE.value


def agreement_of(row: Any) -> Agreement:
    return Agreement(
        id=row.id,
        subject=Subject(
            kind=AgreementKind(row.kind),
            grid_id=row.grid_id,
            signatory_party_id=row.signatory_party_id,
            property_id=row.property_id,
            employer_id=row.employer_id,
        ),
        terms=Terms(row.counterpart_office, row.signed_on, row.valid_from, row.valid_until),
        status=AgreementStatus(row.status),
        recorded_at=as_utc(row.recorded_at),
        supersedes=row.supersedes,
        superseded_by=row.superseded_by,
    )


async def load_agreement(
    session: AsyncSession, agreement_id: str, *, for_update: bool = False
) -> Agreement | None:
    query = select(agreements).where(agreements.c.id == agreement_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return agreement_of(row) if row is not None else None


async def agreement_row(session: AsyncSession, agreement_id: str) -> Any:
    return (
        await session.execute(select(agreements).where(agreements.c.id == agreement_id))
    ).first()


async def active_for_subject(session: AsyncSession, subject_key: str) -> str | None:
    found = await session.scalar(
        select(agreements.c.id).where(
            agreements.c.subject_key == subject_key, agreements.c.status == ACTIVE
        )
    )
    return str(found) if found is not None else None


async def add_agreement(session: AsyncSession, agreement: Agreement, *, recorded_by: str) -> None:
    s, t = agreement.subject, agreement.terms
    await session.execute(
        insert(agreements).values(
            id=agreement.id,
            kind=s.kind.value,
            subject_key=s.key,
            signatory_party_id=s.signatory_party_id,
            counterpart_office=t.counterpart_office,
            property_id=s.property_id,
            employer_id=s.employer_id,
            grid_id=s.grid_id,
            signed_on=t.signed_on,
            valid_from=t.valid_from,
            valid_until=t.valid_until,
            status=agreement.status.value,
            supersedes=agreement.supersedes,
            superseded_by=agreement.superseded_by,
            recorded_by=recorded_by,
            recorded_at=agreement.recorded_at,
        )
    )


async def save_status(
    session: AsyncSession, agreement: Agreement, *, now: datetime, revoked_reason: str | None = None
) -> None:
    values: dict[str, Any] = {
        "status": agreement.status.value,
        "superseded_by": agreement.superseded_by,
        "status_changed_at": now,
    }
    if revoked_reason is not None:
        values["revoked_reason"] = revoked_reason
    await session.execute(update(agreements).where(agreements.c.id == agreement.id).values(values))


async def list_agreements(
    session: AsyncSession,
    *,
    property_id: str | None,
    employer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """(total, page) of a property's or an employer's agreements, newest first."""
    where = [
        agreements.c.property_id == property_id
        if property_id is not None
        else agreements.c.employer_id == employer_id
    ]
    if status is not None:
        where.append(agreements.c.status == status)
    total = await session.scalar(select(func.count()).select_from(agreements).where(*where))
    page = await session.execute(
        select(agreements)
        .where(*where)
        .order_by(agreements.c.recorded_at.desc(), agreements.c.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(page.all())


def in_force_on(today: date) -> Any:
    """The SQL condition of an agreement in force on ``today``."""
    return and_(
        agreements.c.status == ACTIVE,
        agreements.c.valid_from <= today,
        agreements.c.valid_until >= today,
    )


def property_uncovered(today: date) -> Any:
    """No landlord agreement in force today for ``properties.c.id``."""
    return ~exists().where(
        agreements.c.property_id == properties.c.id,
        agreements.c.kind == AgreementKind.LANDLORD.value,
        in_force_on(today),
    )


def employer_uncovered(today: date) -> Any:
    """No employer agreement in force today for ``employers.c.id``."""
    return ~exists().where(agreements.c.employer_id == employers.c.id, in_force_on(today))


def _last_agreement(*where: Any) -> tuple[Any, Any]:
    """Correlated subqueries: the status and last day of the subject's latest agreement."""

    def latest(field: Any) -> Any:
        return (
            select(field)
            .where(*where)
            .order_by(agreements.c.recorded_at.desc(), agreements.c.id)
            .limit(1)
            .scalar_subquery()
        )

    return (
        latest(agreements.c.status).label("last_status"),
        latest(agreements.c.valid_until).label("last_valid_until"),
    )


async def properties_without_agreement(
    session: AsyncSession, *, grid_id: str, today: date, limit: int, offset: int
) -> tuple[int, list[Any]]:
    """(total, page) of the grid's properties with no landlord agreement in force today."""
    where = [properties.c.grid_id == grid_id, property_uncovered(today)]
    total = await session.scalar(select(func.count()).select_from(properties).where(*where))
    last = _last_agreement(
        agreements.c.property_id == properties.c.id,
        agreements.c.kind == AgreementKind.LANDLORD.value,
    )
    page = await session.execute(
        select(
            properties.c.id,
            properties.c.address,
            properties.c.landlord_id,
            properties.c.channel,
            properties.c.registered_at,
            *last,
        )
        .where(*where)
        .order_by(properties.c.registered_at, properties.c.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(page.all())


async def employers_without_agreement(
    session: AsyncSession, *, grid_id: str, today: date, limit: int, offset: int
) -> tuple[int, list[Any]]:
    """(total, page) of the grid's employers with no employer agreement in force today."""
    where = [employers.c.grid_id == grid_id, employer_uncovered(today)]
    total = await session.scalar(select(func.count()).select_from(employers).where(*where))
    last = _last_agreement(agreements.c.employer_id == employers.c.id)
    page = await session.execute(
        select(
            employers.c.id,
            employers.c.credit_code,
            employers.c.name,
            employers.c.address,
            employers.c.registered_at,
            *last,
        )
        .where(*where)
        .order_by(employers.c.registered_at, employers.c.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(page.all())


async def lives_in(session: AsyncSession, person_ref: str, property_id: str) -> bool:
    """The person has an active residence in the property."""
    found = await session.scalar(
        select(residences.c.id)
        .where(
            residences.c.person_ref == person_ref,
            residences.c.property_id == property_id,
            residences.c.ended_on.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def load_employer_row(
    session: AsyncSession, employer_id: str, *, for_update: bool = False
) -> Any:
    query = select(employers.c.id, employers.c.credit_code, employers.c.grid_id).where(
        employers.c.id == employer_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()
