"""Cross-inspections' statements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inspection.adapters.cross_tables import cross_assignments, cross_inspections, teams
from inspection.adapters.visits_tables import visit_hazards, visit_occupants, visits
from inspection.domain.cross import Team, TeamResult


async def add_team(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(teams).values(**values))


async def team_exists(session: AsyncSession, team_id: str) -> bool:
    return (
        await session.scalar(select(teams.c.team_id).where(teams.c.team_id == team_id)) is not None
    )


async def all_teams(session: AsyncSession) -> dict[str, Team]:
    rows = await session.execute(select(teams))
    return {r.team_id: Team(r.team_id, frozenset(r.home_grids), frozenset(r.members)) for r in rows}


async def add(session: AsyncSession, cross: dict[str, Any], pairs: list[tuple[str, str]]) -> None:
    await session.execute(insert(cross_inspections).values(**cross))
    await session.execute(
        insert(cross_assignments),
        [{"cross_id": cross["cross_id"], "team_id": t, "grid_id": g} for t, g in pairs],
    )


async def lock(session: AsyncSession, cross_id: str) -> Any:
    query = select(cross_inspections).where(cross_inspections.c.cross_id == cross_id)
    return (await session.execute(query.with_for_update())).first()


async def assignments(session: AsyncSession, cross_id: str) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(cross_assignments.c.team_id, cross_assignments.c.grid_id)
        .where(cross_assignments.c.cross_id == cross_id)
        .order_by(cross_assignments.c.grid_id)
    )
    return [(r.team_id, r.grid_id) for r in rows]


async def assigned(session: AsyncSession, account: str, grid_id: str, month: str) -> bool:
    """Whether ``account`` is on a team assigned ``grid_id`` by an open cross-inspection
    of ``month``."""
    rows = await session.execute(
        select(teams.c.members)
        .join(cross_assignments, cross_assignments.c.team_id == teams.c.team_id)
        .join(cross_inspections, cross_inspections.c.cross_id == cross_assignments.c.cross_id)
        .where(
            cross_assignments.c.grid_id == grid_id,
            cross_inspections.c.month == month,
            cross_inspections.c.status == "open",
        )
    )
    return any(account in members for (members,) in rows)


async def results(
    session: AsyncSession, pairs: list[tuple[str, str]], members: dict[str, frozenset[str]],
    start: datetime, end: datetime,
) -> list[TeamResult]:  # fmt: skip
    """Each team's completed visits, occupants met and hazards found in its assigned grid."""
    out = []
    for team_id, grid_id in pairs:
        who = sorted(members.get(team_id, frozenset()))
        scope = [
            visits.c.grid_id == grid_id,
            visits.c.officer_id.in_(who),
            visits.c.completed.is_(True),
            visits.c.completed_at >= start,
            visits.c.completed_at < end,
        ]
        done = await session.scalar(select(func.count()).select_from(visits).where(*scope))
        met = await session.scalar(
            select(func.count()).select_from(visit_occupants.join(visits)).where(*scope)
        )
        hazards = await session.scalar(
            select(func.count())
            .select_from(visit_hazards.join(visits))
            .where(*scope, visit_hazards.c.passed.is_(False))
        )
        out.append(TeamResult(team_id, grid_id, int(done or 0), int(met or 0), int(hazards or 0)))
    return out


async def circulate(session: AsyncSession, cross_id: str, **values: Any) -> None:
    await session.execute(
        update(cross_inspections).where(cross_inspections.c.cross_id == cross_id).values(**values)
    )
