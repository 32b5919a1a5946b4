"""Plans: saved with their picks in the command's transaction, read back whole."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inspection.adapters.plans_tables import plan_picks, plans
from inspection.domain.sampling import Assignment, Pick


async def save_plan(session: AsyncSession, plan: dict[str, Any], picks: list[Pick]) -> None:
    await session.execute(insert(plans).values(**plan))
    await session.execute(
        insert(plan_picks),
        [
            {
                "plan_id": plan["plan_id"],
                "rank": p.rank,
                "property_id": p.property_id,
                "risk": p.risk,
                "key": p.key,
                "signals": p.signals,
            }
            for p in picks
        ],
    )


async def load_plan(session: AsyncSession, plan_id: str) -> tuple[Any, list[Any]] | None:
    plan = (await session.execute(select(plans).where(plans.c.plan_id == plan_id))).first()
    if plan is None:
        return None
    picks = await session.execute(
        select(plan_picks).where(plan_picks.c.plan_id == plan_id).order_by(plan_picks.c.rank)
    )
    return plan, list(picks)


async def lock_plan(session: AsyncSession, plan_id: str) -> Any:
    query = select(plans).where(plans.c.plan_id == plan_id).with_for_update()
    return (await session.execute(query)).first()


async def assign(session: AsyncSession, plan_id: str, assignments: list[Assignment]) -> None:
    """The plan's picks assigned (again: an earlier assignment is replaced)."""
    for a in assignments:
        await session.execute(
            update(plan_picks)
            .where(plan_picks.c.plan_id == plan_id, plan_picks.c.rank == a.rank)
            .values(assigned_to=a.account, shift=a.shift)
        )
