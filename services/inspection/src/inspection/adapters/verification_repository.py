"""Verification tasks' statements."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from inspection.adapters.verification_tables import verification_tasks as tasks
from inspection.domain.verification import CLOSED, OPEN


async def open_task(session: AsyncSession, **values: Any) -> bool:
    """Insert the task unless the lead has one; True if it was created now."""
    result = await session.execute(
        conflict_insert(session)(tasks).values(**values, status=OPEN).on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult


async def lock(session: AsyncSession, lead_id: str) -> Any:
    query = select(tasks).where(tasks.c.lead_id == lead_id).with_for_update()
    return (await session.execute(query)).first()


async def close(session: AsyncSession, lead_id: str) -> bool:
    """Close an open task (registration closed its lead first); True if it was open."""
    result = await session.execute(
        update(tasks)
        .where(tasks.c.lead_id == lead_id, tasks.c.status == OPEN)
        .values(status=CLOSED)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def update_task(session: AsyncSession, lead_id: str, **values: Any) -> None:
    await session.execute(update(tasks).where(tasks.c.lead_id == lead_id).values(**values))


async def tasks_of(
    session: AsyncSession,
    grid_ids: list[str] | None,
    *,
    status: str | None,
    overdue_on: date | None,
) -> list[Any]:
    """Tasks by due day; ``overdue_on``: open ones due before that day."""
    query = select(tasks).order_by(tasks.c.due_on, tasks.c.lead_id)
    if grid_ids is not None:
        query = query.where(tasks.c.grid_id.in_(grid_ids))
    if status is not None:
        query = query.where(tasks.c.status == status)
    if overdue_on is not None:
        query = query.where(tasks.c.status == OPEN, tasks.c.due_on < overdue_on)
    return list((await session.execute(query.limit(1000))).all())
