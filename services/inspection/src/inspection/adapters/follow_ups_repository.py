"""Follow-ups' statements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from inspection.adapters.follow_ups_tables import follow_ups

OPEN, DONE = "open", "done"


async def add(session: AsyncSession, **values: Any) -> bool:
    """Insert the order's follow-up unless it has one; True if it was created now."""
    result = await session.execute(
        conflict_insert(session)(follow_ups).values(**values, status=OPEN).on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult


async def of_property(session: AsyncSession, property_id: str) -> dict[str, Any]:
    """The property's follow-ups by order id, locked (a visit records them)."""
    query = select(follow_ups).where(follow_ups.c.property_id == property_id).with_for_update()
    return {row.order_id: row for row in await session.execute(query)}


async def record(
    session: AsyncSession, order_id: str, *, visit_id: str, rectified: bool, at: datetime
) -> None:
    await session.execute(
        update(follow_ups)
        .where(follow_ups.c.order_id == order_id)
        .values(status=DONE, visit_id=visit_id, rectified=rectified, done_at=at)
    )


async def listing(
    session: AsyncSession, grid_ids: list[str] | None, *, status: str | None,
    overdue_on: date | None,
) -> list[Any]:  # fmt: skip
    """Follow-ups by deadline; ``overdue_on``: open ones whose deadline is before that day."""
    query = select(follow_ups).order_by(follow_ups.c.deadline, follow_ups.c.order_id)
    if grid_ids is not None:
        query = query.where(follow_ups.c.grid_id.in_(grid_ids))
    if status is not None:
        query = query.where(follow_ups.c.status == status)
    if overdue_on is not None:
        query = query.where(follow_ups.c.status == OPEN, follow_ups.c.deadline < overdue_on)
    return list((await session.execute(query.limit(1000))).all())
