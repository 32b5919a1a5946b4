"""Sweeps: their rows, and what their coverage is computed from (one statement each)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import DomainError
from inspection.adapters.registry_tables import (
    registry_findings,
    registry_properties,
    registry_residences,
)
from inspection.adapters.sweeps_tables import sweep_discoveries, sweeps
from inspection.adapters.visits_tables import visit_occupants, visits
from inspection.domain.sweeps import Building


async def add(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(sweeps).values(**values))


async def lock(session: AsyncSession, sweep_id: str) -> Any:
    query = select(sweeps).where(sweeps.c.sweep_id == sweep_id).with_for_update()
    return (await session.execute(query)).first()


async def load(session: AsyncSession, sweep_id: str) -> Any:
    return (await session.execute(select(sweeps).where(sweeps.c.sweep_id == sweep_id))).first()


async def require_running(session: AsyncSession, sweep_id: str, grid_id: str, day: date) -> None:
    """A visit on a sweep: the sweep is running, covers the grid, and it is one of its days."""
    sweep = await load(session, sweep_id)
    if sweep is None or sweep.status != "running":
        raise DomainError("sweep_id", "is not a running sweep")
    if grid_id not in sweep.grid_ids:
        raise DomainError("sweep_id", f"the sweep does not cover grid {grid_id}")
    if not sweep.starts_on <= day <= sweep.ends_on:
        raise DomainError("captured_at", "is not one of the sweep's days")


async def complete(session: AsyncSession, sweep_id: str, **values: Any) -> None:
    await session.execute(update(sweeps).where(sweeps.c.sweep_id == sweep_id).values(**values))


async def add_discovery(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(sweep_discoveries).values(**values))


async def discoveries(session: AsyncSession, sweep_id: str) -> int:
    query = select(func.count()).where(sweep_discoveries.c.sweep_id == sweep_id)
    return int(await session.scalar(query) or 0)


async def buildings(session: AsyncSession, grid_ids: list[str]) -> list[Building]:
    """The registered buildings of the grids, with their rooms and declared residents."""
    p, r = registry_properties, registry_residences
    in_grids = select(p.c.property_id).where(p.c.grid_id.in_(grid_ids)).scalar_subquery()
    declared: dict[str, dict[str, int]] = defaultdict(dict)
    for row in await session.execute(
        select(r.c.property_id, r.c.room_no, func.count().label("n"))
        .where(r.c.property_id.in_(in_grids), r.c.ended == 0)
        .group_by(r.c.property_id, r.c.room_no)
    ):
        declared[row.property_id][row.room_no] = int(row.n)
    rows = await session.execute(
        select(p.c.property_id, p.c.room_numbers)
        .where(p.c.grid_id.in_(grid_ids))
        .order_by(p.c.property_id)
    )
    return [
        Building(row.property_id, tuple(row.room_numbers), declared.get(row.property_id, {}))
        for row in rows
    ]


async def registered(session: AsyncSession, sweep_id: str) -> int:
    """Occupants met on the sweep's visits whom registration registered (not declared)."""
    f = registry_findings
    query = (
        select(func.count())
        .select_from(f.join(visits, visits.c.visit_id == f.c.visit_id))
        .where(visits.c.sweep_id == sweep_id, f.c.outcome == "registered")
    )
    return int(await session.scalar(query) or 0)


async def visited(session: AsyncSession, sweep_id: str) -> tuple[dict[str, dict[str, int]], int]:
    """Property -> room entered -> occupants met, over the sweep's completed visits; and
    everyone met."""
    v, o = visits, visit_occupants
    rooms: dict[str, dict[str, int]] = defaultdict(dict)
    done = (
        await session.execute(
            select(v.c.visit_id, v.c.property_id, v.c.rooms_entered).where(
                v.c.sweep_id == sweep_id, v.c.completed.is_(True)
            )
        )
    ).all()
    for row in done:
        for room in row.rooms_entered:
            rooms[row.property_id].setdefault(room, 0)
    met = 0
    for row in await session.execute(
        select(v.c.property_id, o.c.room_no, func.count().label("n"))
        .join(o, o.c.visit_id == v.c.visit_id)
        .where(v.c.sweep_id == sweep_id, v.c.completed.is_(True))
        .group_by(v.c.property_id, o.c.room_no)
    ):
        rooms[row.property_id][row.room_no] = rooms[row.property_id].get(row.room_no, 0) + int(
            row.n
        )
        met += int(row.n)
    return dict(rooms), met
