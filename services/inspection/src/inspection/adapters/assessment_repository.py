"""Staff assessment (考核): per officer and grid worker, one month's work, from inspection's
own records (one grouped statement per record family)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inspection.adapters.plans_tables import plan_picks, plans
from inspection.adapters.verification_tables import verification_tasks
from inspection.adapters.visits_tables import visit_hazards, visit_occupants, visits

FIGURES = (
    "planned",
    "visits_completed",
    "planned_visited",
    "evening_visits",
    "occupants_met",
    "hazards_found",
    "tasks_verified",
    "tasks_on_time",
)


async def month_of_work(
    session: AsyncSession, grid_ids: list[str] | None, month: str, start: datetime, end: datetime
) -> dict[str, dict[str, Any]]:
    """Account -> figures for visits completed, plans drawn and tasks verified in
    [``start``, ``end``) (the month in the office's time)."""
    staff: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    v = visits
    in_month = [v.c.completed.is_(True), v.c.completed_at >= start, v.c.completed_at < end]
    if grid_ids is not None:
        in_month.append(v.c.grid_id.in_(grid_ids))
    for row in await session.execute(
        select(
            v.c.officer_id,
            func.count().label("done"),
            func.count().filter(v.c.evening.is_(True)).label("evening"),
            func.count().filter(v.c.plan_id.is_not(None)).label("planned_visited"),
        )
        .where(*in_month)
        .group_by(v.c.officer_id)
    ):
        figures = staff[row.officer_id]
        figures["visits_completed"] = int(row.done)
        figures["evening_visits"] = int(row.evening)
        figures["planned_visited"] = int(row.planned_visited)
    for table, name in ((visit_occupants, "occupants_met"), (visit_hazards, "hazards_found")):
        query = (
            select(v.c.officer_id, func.count().label("n"))
            .join(table, table.c.visit_id == v.c.visit_id)
            .where(*in_month)
            .group_by(v.c.officer_id)
        )
        if table is visit_hazards:
            query = query.where(visit_hazards.c.passed.is_(False))
        for row in await session.execute(query):
            staff[row.officer_id][name] = int(row.n)
    p = plans
    # A pick counts for whom it was assigned to (PUT /plans/{id}/assignment), or else for
    # the officer who drew the plan.
    who = func.coalesce(plan_picks.c.assigned_to, p.c.planned_by).label("who")
    planned = (
        select(who, func.count(plan_picks.c.rank).label("n"))
        .join(plan_picks, plan_picks.c.plan_id == p.c.plan_id)
        .where(p.c.month == month)
    )
    if grid_ids is not None:
        planned = planned.where(p.c.grid_id.in_(grid_ids))
    for row in await session.execute(planned.group_by(who)):
        staff[row.who]["planned"] = int(row.n)
    t = verification_tasks
    tasks = select(
        t.c.verified_by,
        func.count().label("n"),
        func.count().filter(t.c.on_time.is_(True)).label("on_time"),
    ).where(t.c.verified_at >= start, t.c.verified_at < end, t.c.verified_by.is_not(None))
    if grid_ids is not None:
        tasks = tasks.where(t.c.grid_id.in_(grid_ids))
    for row in await session.execute(tasks.group_by(t.c.verified_by)):
        staff[row.verified_by]["tasks_verified"] = int(row.n)
        staff[row.verified_by]["tasks_on_time"] = int(row.on_time)
    return dict(staff)
