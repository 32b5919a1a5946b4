"""Visits: the stored version of one (locked for the submission), and its replacement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inspection.adapters.visits_tables import visit_hazards, visit_occupants, visits
from inspection.domain.visits import Stored


async def lock(session: AsyncSession, visit_id: str) -> tuple[Stored, Any] | None:
    query = select(visits).where(visits.c.visit_id == visit_id).with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    return Stored(row.version, row.content_sha256, row.completed), row


async def save(
    session: AsyncSession,
    visit: dict[str, Any],
    occupants: list[dict[str, Any]],
    hazards: list[dict[str, Any]],
    *,
    new: bool,
) -> None:
    """The visit as this version has it: its occupants and checks replace the last's."""
    visit_id = visit["visit_id"]
    if new:
        await session.execute(insert(visits).values(**visit))
    else:
        await session.execute(update(visits).where(visits.c.visit_id == visit_id).values(**visit))
        await session.execute(delete(visit_occupants).where(visit_occupants.c.visit_id == visit_id))
        await session.execute(delete(visit_hazards).where(visit_hazards.c.visit_id == visit_id))
    if occupants:
        await session.execute(insert(visit_occupants), occupants)
    if hazards:
        await session.execute(insert(visit_hazards), hazards)


async def load(session: AsyncSession, visit_id: str) -> tuple[Any, list[Any], list[Any]] | None:
    row = (await session.execute(select(visits).where(visits.c.visit_id == visit_id))).first()
    if row is None:
        return None
    occupants = await session.execute(
        select(visit_occupants)
        .where(visit_occupants.c.visit_id == visit_id)
        .order_by(visit_occupants.c.seq)
    )
    hazards = await session.execute(
        select(visit_hazards)
        .where(visit_hazards.c.visit_id == visit_id)
        .order_by(visit_hazards.c.item)
    )
    return row, list(occupants), list(hazards)
