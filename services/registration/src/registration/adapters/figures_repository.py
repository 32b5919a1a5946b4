"""The office's figures (底數): base counts per grid computed from the tables, and the
monthly declaration figures the projection keeps.

Aggregate queries over indexed columns rather than counters: every figure here is
changed by handlers of three owners (properties and residences, employment, agreements),
and the numbers must agree with the records they summarise. Measured with 2,000
properties (40,000 rooms, 60,000 residences, 400 employers) — see the README: a grid's
figures take a few milliseconds, the whole community's a few tens.

All figures of a set of grids come from one statement per table family, grouped by
grid, so a community of 30 grids costs as many round trips as a single grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from registration.adapters.agreements_repository import (
    employer_uncovered,
    in_force_on,
    property_uncovered,
)
from registration.adapters.agreements_tables import agreements
from registration.adapters.employment_tables import employers, employments
from registration.adapters.figures_tables import grid_month_figures
from registration.adapters.residences_tables import properties, residences, rooms
from registration.domain.agreements import AgreementKind

FIGURES = (
    "rental_properties",
    "properties_without_agreement",
    "rooms",
    "room_capacity",
    "active_residences",
    "persons_with_active_residence",
    "employers",
    "employers_without_agreement",
    "active_employments",
)
KINDS = tuple(k.value for k in AgreementKind)


def _empty() -> dict[str, Any]:
    return {**dict.fromkeys(FIGURES, 0), "agreements_in_force": dict.fromkeys(KINDS, 0)}


async def base_figures(
    session: AsyncSession, grid_ids: Sequence[str], *, today: date
) -> dict[str, dict[str, Any]]:
    """grid id -> current figures, for every grid asked (zeros where there is nothing)."""
    result = {g: _empty() for g in grid_ids}
    if not result:
        return result
    grids = list(result)

    def put(rows: Any, *names: str) -> None:
        for row in rows:
            for name, value in zip(names, row[1:], strict=True):
                result[row[0]][name] = int(value or 0)

    g = properties.c.grid_id
    put(
        await session.execute(
            select(g, func.count(), func.count().filter(property_uncovered(today)))
            .where(g.in_(grids))
            .group_by(g)
        ),
        "rental_properties",
        "properties_without_agreement",
    )
    put(
        await session.execute(
            select(g, func.count(), func.sum(rooms.c.capacity))
            .select_from(properties.join(rooms, rooms.c.property_id == properties.c.id))
            .where(g.in_(grids))
            .group_by(g)
        ),
        "rooms",
        "room_capacity",
    )
    put(
        await session.execute(
            select(g, func.count(), func.count(distinct(residences.c.person_ref)))
            .select_from(properties.join(residences, residences.c.property_id == properties.c.id))
            .where(g.in_(grids), residences.c.ended_on.is_(None))
            .group_by(g)
        ),
        "active_residences",
        "persons_with_active_residence",
    )
    eg = employers.c.grid_id
    put(
        await session.execute(
            select(eg, func.count(), func.count().filter(employer_uncovered(today)))
            .where(eg.in_(grids))
            .group_by(eg)
        ),
        "employers",
        "employers_without_agreement",
    )
    put(
        await session.execute(
            select(eg, func.count())
            .select_from(employers.join(employments, employments.c.employer_id == employers.c.id))
            .where(eg.in_(grids), employments.c.left_on.is_(None))
            .group_by(eg)
        ),
        "active_employments",
    )
    ag = agreements.c.grid_id
    for grid_id, kind, count in await session.execute(
        select(ag, agreements.c.kind, func.count())
        .where(ag.in_(grids), in_force_on(today))
        .group_by(ag, agreements.c.kind)
    ):
        result[grid_id]["agreements_in_force"][kind] = int(count)
    return result


def total(per_grid: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sum of :func:`base_figures` over its grids.

    ``persons_with_active_residence`` is summed too: a person with residences in two
    grids counts in each (a person has one active residence in practice).
    """
    summed = _empty()
    for figures in per_grid.values():
        for name in FIGURES:
            summed[name] += figures[name]
        for kind, count in figures["agreements_in_force"].items():
            summed["agreements_in_force"][kind] = summed["agreements_in_force"].get(kind, 0) + count
    return summed


async def declaration_months(
    session: AsyncSession, grid_ids: Sequence[str], months: Sequence[str]
) -> list[dict[str, Any]]:
    """Per month, the declarations of the grids and the self-declaration rate (申報率)."""
    t = grid_month_figures
    rows = {
        r.month: r
        for r in await session.execute(
            select(
                t.c.month,
                func.sum(t.c.declarations).label("declarations"),
                func.sum(t.c.self_declared).label("self_declared"),
                func.sum(t.c.on_time).label("on_time"),
            )
            .where(t.c.grid_id.in_(list(grid_ids)), t.c.month.in_(list(months)))
            .group_by(t.c.month)
        )
    }
    result = []
    for month in months:
        row = rows.get(month)
        declarations = int(row.declarations) if row else 0
        self_declared = int(row.self_declared) if row else 0
        result.append(
            {
                "month": month,
                "declarations": declarations,
                "self_declared": self_declared,
                "on_time": int(row.on_time) if row else 0,
                "self_declaration_rate": round(self_declared / declarations, 4)
                if declarations
                else None,
            }
        )
    return result


async def grid_month(session: AsyncSession, grid_id: str, month: str) -> Any:
    """A grid's declaration figures of one month (``YYYY-MM``), or None if it had none."""
    t = grid_month_figures
    query = select(t).where(t.c.grid_id == grid_id, t.c.month == month)
    return (await session.execute(query)).first()


async def count_declaration(session: AsyncSession, values: dict[str, Any]) -> None:
    """Add one declaration to its grid and month (an upsert: one statement per event)."""
    await session.execute(_COUNT_DECLARATION[session.get_bind().dialect.name], values)


def _count_declaration(insert_: Any) -> Any:
    """The figures upsert, built once per dialect: one statement object for every event."""
    t = grid_month_figures
    stmt = insert_(t)
    return stmt.on_conflict_do_update(
        index_elements=["grid_id", "month"],
        set_={
            name: t.c[name] + stmt.excluded[name]
            for name in ("declarations", "self_declared", "on_time", "over_capacity")
        },
    )


_COUNT_DECLARATION = {
    "postgresql": _count_declaration(pg_insert),
    "sqlite": _count_declaration(sqlite_insert),
}
