"""Spot-check plans: draw one for a grid and a month, and explain it."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import NotFound
from common.publisher import Publisher
from inspection.adapters import plans_repository, registry_repository
from inspection.app.access import authorize_grid
from inspection.domain.sampling import Pick, SamplingPolicy, Staff, assign, draw
from inspection.events import SpotCheckPlanned


@dataclass(frozen=True)
class DrawPlan:
    grid_id: str
    month: str
    size: int
    seed: str | None = None


@dataclass(frozen=True)
class Plans:
    publisher: Publisher
    clock: Clock
    timezone: tzinfo
    policy: SamplingPolicy

    async def draw(
        self, session: AsyncSession, cmd: DrawPlan, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        authorize_grid(principal, cmd.grid_id)
        now = self.clock.now()
        as_of = now.astimezone(self.timezone).date()
        facts = await registry_repository.facts_of_grid(
            session, cmd.grid_id, as_of=as_of, recent_days=self.policy.recent_days
        )
        seed = cmd.seed or secrets.token_hex(8)
        picks = draw(facts, size=cmd.size, seed=seed, as_of=as_of, policy=self.policy)
        plan_id = str(uuid.uuid4())
        await plans_repository.save_plan(
            session,
            {
                "plan_id": plan_id,
                "grid_id": cmd.grid_id,
                "month": cmd.month,
                "as_of": as_of,
                "seed": seed,
                "size": cmd.size,
                "candidates": len(facts),
                "policy_version": self.policy.version,
                "policy": policy_record(self.policy),
                "planned_by": principal.sub,
                "planned_at": now,
            },
            picks,
        )
        await self.publisher.stage(
            session,
            [
                SpotCheckPlanned(
                    plan_id=plan_id,
                    grid_id=cmd.grid_id,
                    month=cmd.month,
                    seed=seed,
                    policy_version=self.policy.version,
                    property_ids=[p.property_id for p in picks],
                    candidates=len(facts),
                    planned_at=now,
                    planned_by=principal.sub,
                )
            ],
            trace,
        )
        return {"plan_id": plan_id, "seed": seed, "candidates": len(facts), "picked": len(picks)}

    async def explain(
        self, session: AsyncSession, plan_id: str, principal: Principal
    ) -> dict[str, Any]:
        """The plan, each pick with its risk, the signals behind it and their weight."""
        loaded = await plans_repository.load_plan(session, plan_id)
        if loaded is None:
            raise NotFound("plan", plan_id)
        plan, picks = loaded
        authorize_grid(principal, plan.grid_id)
        weights: dict[str, float] = plan.policy["weights"]
        return {
            "plan_id": plan.plan_id,
            "grid_id": plan.grid_id,
            "month": plan.month,
            "as_of": plan.as_of,
            "seed": plan.seed,
            "size": plan.size,
            "candidates": plan.candidates,
            "policy": plan.policy,
            "planned_by": plan.planned_by,
            "planned_at": plan.planned_at,
            "picks": [
                {
                    "rank": p.rank,
                    "property_id": p.property_id,
                    "risk": p.risk,
                    "key": p.key,
                    "signals": p.signals,
                    "assigned_to": p.assigned_to,
                    "shift": p.shift,
                    "because": {
                        name: round(weights.get(name, 0.0) * value, 4)
                        for name, value in p.signals.items()
                        if value and weights.get(name)
                    },
                }
                for p in picks
            ],
        }


async def assign_plan(
    session: AsyncSession,
    plan_id: str,
    staff: list[Staff],
    principal: Principal,
    *,
    evening_share: float,
) -> dict[str, Any]:
    """Assign a plan's visits to its staff within their capacity, across day and evening."""
    plan = await plans_repository.lock_plan(session, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    authorize_grid(principal, plan.grid_id)
    loaded = await plans_repository.load_plan(session, plan_id)
    assert loaded is not None
    picks = [
        Pick(property_id=p.property_id, rank=p.rank, risk=p.risk, key=p.key) for p in loaded[1]
    ]
    assignments = assign(picks, staff, evening_share=evening_share)
    await plans_repository.assign(session, plan_id, assignments)
    load: dict[str, dict[str, int]] = {}
    for a in assignments:
        load.setdefault(a.account, {"day": 0, "evening": 0})[a.shift] += 1
    return {"plan_id": plan_id, "visits": len(assignments), "evening_share": evening_share,
            "load": load}  # fmt: skip


def policy_record(policy: SamplingPolicy) -> dict[str, Any]:
    """The policy as the plan keeps it: enough to recompute and to explain the draw."""
    record = dataclasses.asdict(policy)
    record["weights"] = dict(policy.weights)
    return record
