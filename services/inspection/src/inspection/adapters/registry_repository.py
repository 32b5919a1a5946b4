"""The registry's statements: idempotent upserts from registration's events, and the facts
a plan is drawn from (one statement per table family, grouped by property)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from inspection.adapters.registry_tables import (
    registry_findings,
    registry_leads,
    registry_properties,
    registry_residences,
)
from inspection.domain.sampling import PropertyFacts


async def _insert_new(session: AsyncSession, table: Table, values: Mapping[str, Any]) -> None:
    """Insert unless the row's key is there already: a redelivered event changes nothing."""
    await session.execute(conflict_insert(session)(table).values(**values).on_conflict_do_nothing())


async def add_property(
    session: AsyncSession, property_id: str, grid_id: str, rooms: dict[str, int]
) -> None:
    """``rooms``: room number -> capacity."""
    await _insert_new(
        session,
        registry_properties,
        {
            "property_id": property_id,
            "grid_id": grid_id,
            "capacity": sum(rooms.values()),
            "rooms": len(rooms),
            "room_numbers": sorted(rooms),
        },
    )


async def property_of(session: AsyncSession, property_id: str) -> Any:
    """The registered property (grid, rooms), or None."""
    p = registry_properties
    query = select(p.c.property_id, p.c.grid_id, p.c.room_numbers).where(
        p.c.property_id == property_id
    )
    return (await session.execute(query)).first()


async def visited(session: AsyncSession, property_id: str, on: date) -> None:
    p = registry_properties
    await session.execute(
        update(p)
        .where(p.c.property_id == property_id)
        .where((p.c.last_visited_on.is_(None)) | (p.c.last_visited_on < on))
        .values(last_visited_on=on)
    )


async def add_residence(session: AsyncSession, **values: Any) -> None:
    await _insert_new(session, registry_residences, values)


async def settle_finding(
    session: AsyncSession, finding_id: str, property_id: str, outcome: str
) -> None:
    """``finding_id`` is inspection's ``<visit_id>:<hash>`` (app.visits)."""
    await _insert_new(
        session,
        registry_findings,
        {
            "finding_id": finding_id,
            "visit_id": finding_id.split(":", 1)[0],
            "property_id": property_id,
            "outcome": outcome,
        },
    )


async def end_residence(session: AsyncSession, residence_id: str) -> None:
    await session.execute(
        update(registry_residences)
        .where(registry_residences.c.residence_id == residence_id)
        .values(ended=1)
    )


async def open_lead(session: AsyncSession, lead_id: str, property_id: str) -> None:
    await _insert_new(
        session, registry_leads, {"lead_id": lead_id, "property_id": property_id, "open": 1}
    )


async def close_lead(session: AsyncSession, lead_id: str, property_id: str) -> None:
    """Closed whether or not its opening arrived first (another partition's order)."""
    await _insert_new(
        session, registry_leads, {"lead_id": lead_id, "property_id": property_id, "open": 0}
    )
    await session.execute(
        update(registry_leads).where(registry_leads.c.lead_id == lead_id).values(open=0)
    )


async def facts_of_grid(
    session: AsyncSession, grid_id: str, *, as_of: date, recent_days: int
) -> list[PropertyFacts]:
    """What a plan weighs, for every registered property of the grid, by property id."""
    p, r, ld = registry_properties, registry_residences, registry_leads
    recent_since = as_of - timedelta(days=recent_days)
    props = (
        await session.execute(
            select(p.c.property_id, p.c.capacity, p.c.last_visited_on)
            .where(p.c.grid_id == grid_id)
            .order_by(p.c.property_id)
        )
    ).all()
    if not props:
        return []
    in_grid = select(p.c.property_id).where(p.c.grid_id == grid_id).scalar_subquery()
    residences = {
        row.property_id: row
        for row in await session.execute(
            select(
                r.c.property_id,
                func.count().label("declarations"),
                func.coalesce(func.sum(r.c.self_declared), 0).label("self_declared"),
                func.count().filter(r.c.ended == 0).label("residents"),
                func.count().filter(r.c.moved_in_on >= recent_since).label("recent"),
            )
            .where(r.c.property_id.in_(in_grid))
            .group_by(r.c.property_id)
        )
    }
    leads = {
        row.property_id: int(row.open)
        for row in await session.execute(
            select(ld.c.property_id, func.count().label("open"))
            .where(ld.c.property_id.in_(in_grid), ld.c.open == 1)
            .group_by(ld.c.property_id)
        )
    }
    facts = []
    for prop in props:
        res = residences.get(prop.property_id)
        facts.append(
            PropertyFacts(
                property_id=prop.property_id,
                capacity=prop.capacity,
                residents=int(res.residents) if res else 0,
                declarations=int(res.declarations) if res else 0,
                self_declared=int(res.self_declared) if res else 0,
                move_ins_recent=int(res.recent) if res else 0,
                open_leads=leads.get(prop.property_id, 0),
                last_visited_on=prop.last_visited_on,
            )
        )
    return facts


async def properties_of(session: AsyncSession, grid_id: str, *, limit: int, offset: int) -> Any:
    """The grid's registered properties with their declared residents, by property id."""
    p, r = registry_properties, registry_residences
    residents = (
        select(func.count())
        .where(r.c.property_id == p.c.property_id, r.c.ended == 0)
        .scalar_subquery()
    )
    total = await session.scalar(select(func.count()).where(p.c.grid_id == grid_id))
    rows = await session.execute(
        select(p.c.property_id, p.c.room_numbers, p.c.capacity, p.c.last_visited_on,
               residents.label("residents"))
        .where(p.c.grid_id == grid_id)
        .order_by(p.c.property_id)
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    return int(total or 0), list(rows)
