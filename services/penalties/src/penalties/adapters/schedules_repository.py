"""The schedule versions' statements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from penalties.adapters.schedules_tables import schedules
from penalties.domain.schedule import Schedule

SCHEDULE_LOCK_ID = 0x0B0C_5C4E  # pg advisory lock key held while the schedule is edited


async def all_versions(session: AsyncSession) -> list[Schedule]:
    rows = await session.execute(select(schedules.c.document).order_by(schedules.c.effective_from))
    return [Schedule.model_validate(document) for (document,) in rows]


async def add(session: AsyncSession, schedule: Schedule, *, by: str, now: datetime) -> bool:
    """Insert a version unless it exists; True if inserted now."""
    result = await session.execute(
        conflict_insert(session)(schedules)
        .values(
            version=schedule.version,
            effective_from=schedule.effective_from,
            effective_to=schedule.effective_to,
            review_by=schedule.review_by,
            document=schedule.model_dump(mode="json"),
            created_at=now,
            created_by=by,
        )
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult


async def end(session: AsyncSession, ended: Schedule, *, by: str, now: datetime) -> None:
    """A later version supersedes an open-ended one: it ends the day before."""
    await session.execute(
        update(schedules)
        .where(schedules.c.version == ended.version, schedules.c.effective_to.is_(None))
        .values(
            effective_to=ended.effective_to,
            document=ended.model_dump(mode="json"),
            ended_at=now,
            ended_by=by,
        )
    )


async def lock_all(session: AsyncSession) -> None:
    """Serialise schedule edits (PostgreSQL; SQLite writes are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(SCHEDULE_LOCK_ID)))
