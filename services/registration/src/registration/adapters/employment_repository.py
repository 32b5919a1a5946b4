"""Loading and saving employers, employments, returns and roster uploads (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common import timers as durable_timers
from common.db import timers
from registration.adapters.employment_tables import (
    employer_returns,
    employers,
    employments,
    roster_uploads,
)
from registration.adapters.persons_tables import persons
from registration.domain.employment import Employer, Employment
from registration.events import EmployerReturnFiled, EmploymentDeclared, EmploymentEnded


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def load_employer(
    session: AsyncSession,
    employer_id: str,
    *,
    with_active: bool = True,
    for_update: bool = False,
) -> Employer | None:
    """The employer (and its active employments); ``for_update`` serialises its commands."""
    query = select(employers).where(employers.c.id == employer_id)
    if for_update:
        query = query.with_for_update()  # PostgreSQL; SQLite serialises writers anyway
    row = (await session.execute(query)).first()
    if row is None:
        return None
    employer = Employer(
        id=row.id,
        credit_code=row.credit_code,
        name=row.name,
        grid_id=row.grid_id,
        address=row.address,
        registered_at=as_utc(row.registered_at),
    )
    if with_active:
        active = await session.execute(
            select(employments.c.id, employments.c.person_ref, employments.c.hired_on).where(
                employments.c.employer_id == employer_id, employments.c.left_on.is_(None)
            )
        )
        employer.active = {
            r.person_ref: Employment(r.id, r.person_ref, r.hired_on) for r in active.all()
        }
    return employer


async def employer_id_by_credit_code(session: AsyncSession, credit_code: str) -> str | None:
    found = await session.scalar(
        select(employers.c.id).where(employers.c.credit_code == credit_code)
    )
    return str(found) if found is not None else None


async def add_employer(
    session: AsyncSession, employer: Employer, *, channel: str, registered_by: str
) -> None:
    await session.execute(
        insert(employers).values(
            id=employer.id,
            credit_code=employer.credit_code,
            name=employer.name,
            grid_id=employer.grid_id,
            address=employer.address,
            channel=channel,
            registered_by=registered_by,
            registered_at=employer.registered_at,
        )
    )


def employment_row(
    event: EmploymentDeclared, *, declared_by: str, roster_upload_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event.employment_id,
        "employer_id": event.employer_id,
        "person_ref": event.person_ref,
        "hired_on": event.hired_on,
        "left_on": None,
        "channel": event.channel.value,
        "declared_by": declared_by,
        "declared_at": event.declared_at,
        "ended_by": None,
        "ended_at": None,
        "roster_upload_id": roster_upload_id,
    }


async def add_employments(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert employment rows (from :func:`employment_row`) in one statement."""
    if rows:
        await session.execute(insert(employments), list(rows))


async def end_employments(
    session: AsyncSession, ended: Sequence[EmploymentEnded], *, ended_by: str
) -> None:
    """Mark employments ended (one executemany)."""
    if not ended:
        return
    await session.execute(
        update(employments)
        .where(employments.c.id == bindparam("b_id"), employments.c.left_on.is_(None))
        .values(
            left_on=bindparam("b_left_on"),
            ended_by=bindparam("b_ended_by"),
            ended_at=bindparam("b_ended_at"),
        ),
        [
            {
                "b_id": e.employment_id,
                "b_left_on": e.left_on,
                "b_ended_by": ended_by,
                "b_ended_at": e.declared_at,
            }
            for e in ended
        ],
    )


async def employment_employer(session: AsyncSession, employment_id: str) -> tuple[str, Any] | None:
    """(employer id, row) of an employment, active or ended."""
    row = (
        await session.execute(select(employments).where(employments.c.id == employment_id))
    ).first()
    return (row.employer_id, row) if row is not None else None


async def recorded_headcount(session: AsyncSession, employer_id: str, on: date) -> int:
    """Employments declared as active at the end of day ``on``."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(employments)
            .where(
                employments.c.employer_id == employer_id,
                employments.c.hired_on <= on,
                or_(employments.c.left_on.is_(None), employments.c.left_on > on),
            )
        )
        or 0
    )


async def latest_return_version(session: AsyncSession, employer_id: str, month: str) -> int:
    """The current version of a month's return, 0 when none was filed."""
    return int(
        await session.scalar(
            select(func.coalesce(func.max(employer_returns.c.version), 0)).where(
                employer_returns.c.employer_id == employer_id, employer_returns.c.month == month
            )
        )
        or 0
    )


async def add_return(session: AsyncSession, event: EmployerReturnFiled, *, filed_by: str) -> None:
    await session.execute(
        insert(employer_returns).values(
            employer_id=event.employer_id,
            month=event.month,
            version=event.return_version,
            headcount=event.headcount,
            hires=event.hires,
            leavers=event.leavers,
            recorded_headcount=event.recorded_headcount,
            due_at=event.due_at,
            on_time=event.on_time,
            channel=event.channel.value,
            filed_by=filed_by,
            filed_at=event.filed_at,
        )
    )


async def returns_of(session: AsyncSession, employer_id: str) -> list[Any]:
    """Every filed version of every month, oldest first."""
    return list(
        (
            await session.execute(
                select(employer_returns)
                .where(employer_returns.c.employer_id == employer_id)
                .order_by(employer_returns.c.month, employer_returns.c.version)
            )
        ).all()
    )


async def find_roster_upload(session: AsyncSession, employer_id: str, sha256: str) -> Any:
    return (
        await session.execute(
            select(roster_uploads).where(
                roster_uploads.c.employer_id == employer_id,
                roster_uploads.c.content_sha256 == sha256,
            )
        )
    ).first()


async def add_roster_upload(
    session: AsyncSession,
    *,
    upload_id: str,
    employer_id: str,
    sha256: str,
    report: dict[str, Any],
    uploaded_by: str,
    now: datetime,
) -> None:
    await session.execute(
        insert(roster_uploads).values(
            id=upload_id,
            employer_id=employer_id,
            content_sha256=sha256,
            rows=report["rows"],
            applied=report["applied"],
            rejected=report["rejected"],
            report=report,
            uploaded_by=uploaded_by,
            uploaded_at=now,
        )
    )


async def ensure_timer(
    session: AsyncSession, *, kind: str, key: str, due_at: datetime, payload: dict[str, Any]
) -> bool:
    """Schedule the timer unless it exists (pending or fired); True if it was scheduled.

    ``common.timers.schedule`` re-arms a fired timer: calling it for a month whose
    deadline already fired would fire it, and report the month missed, again.
    """
    exists = await session.scalar(
        select(timers.c.id).where(timers.c.kind == kind, timers.c.key == key)
    )
    if exists is not None:
        return False
    await durable_timers.schedule(session, kind=kind, key=key, due_at=due_at, payload=payload)
    return True


# -- reads of the HTTP API -----------------------------------------------------------------


async def employer_row(session: AsyncSession, employer_id: str) -> Any:
    """An employer's row as the API shows it, or None."""
    return (await session.execute(select(employers).where(employers.c.id == employer_id))).first()


async def employment_counts(session: AsyncSession, employer_id: str) -> tuple[int, int]:
    """An employer's current employments and every employment it declared."""
    row = (
        await session.execute(
            select(func.count().filter(employments.c.left_on.is_(None)), func.count()).where(
                employments.c.employer_id == employer_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def employments_of(
    session: AsyncSession, employer_id: str, *, active: bool, limit: int, offset: int
) -> list[Any]:
    """An employer's employments, newest hire first, each with its person's encrypted id
    number (from the person's current record, so that a corrected number shows too)."""
    query = (
        select(employments, persons.c.id_number_enc)
        .join(persons, persons.c.person_ref == employments.c.person_ref)
        .where(employments.c.employer_id == employer_id)
    )
    if active:
        query = query.where(employments.c.left_on.is_(None))
    query = query.order_by(employments.c.hired_on.desc(), employments.c.id)
    return list((await session.execute(query.limit(limit).offset(offset))).all())
