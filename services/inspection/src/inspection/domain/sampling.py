"""Spot-check sampling (抽查): a reproducible, risk-weighted sample of a grid's properties.

Pure: no I/O. Each property's *risk* is a base weight plus the policy's weight of each
signal the service holds about it (a low self-declaration share, rooms above capacity,
recent move-ins, open leads, no visit for a long time); the sample picks properties
without replacement with probability proportional to their risk, by the method of
Efraimidis and Spirakis (2006): each property draws ``u`` in (0, 1) and gets the key
``u ** (1 / risk)``; the ``size`` largest keys are the plan. ``u`` comes from a generator
seeded with the plan's seed *and the property's id*, so a property's key does not depend
on which other properties are in the grid, nor on their order: the same seed and inputs
give the same plan, and the plan stores what it needs to be recomputed and explained.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from common.errors import DomainError

SIGNALS = (
    "low_self_declaration",
    "over_capacity",
    "recent_move_ins",
    "open_leads",
    "not_visited_recently",
)
"""The signals a policy weighs; each is a number in [0, 1] (see :func:`signals_of`)."""


@dataclass(frozen=True)
class SamplingPolicy:
    """How much each signal raises a property's chance of being visited.

    Versioned and citing its source, like every policy: a plan records the version it
    was drawn under. ``base`` keeps every property in the draw (a risk of zero would never
    be picked, and a spot-check must be able to pick anyone).
    """

    version: str
    source: str
    weights: Mapping[str, float]
    base: float = 1.0
    recent_days: int = 30
    """A move-in this many days before the plan's period counts as recent."""
    stale_days: int = 180
    """A property not visited for this many days (or never) counts fully as not visited."""

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(SIGNALS)
        if unknown:
            raise ValueError(f"unknown signals in the sampling policy: {sorted(unknown)}")
        if self.base <= 0 or any(w < 0 for w in self.weights.values()):
            raise ValueError("the base weight must be positive and signal weights non-negative")


@dataclass(frozen=True)
class PropertyFacts:
    """What the service knows of one property when a plan is drawn."""

    property_id: str
    capacity: int
    residents: int
    declarations: int
    self_declared: int
    move_ins_recent: int
    open_leads: int
    last_visited_on: date | None


def signals_of(facts: PropertyFacts, *, as_of: date, policy: SamplingPolicy) -> dict[str, float]:
    """Each signal of ``facts`` in [0, 1], rounded so that a plan's stored explanation is
    exactly what it was computed from."""
    share = facts.self_declared / facts.declarations if facts.declarations else 1.0
    over = max(0, facts.residents - facts.capacity) / facts.capacity if facts.capacity else 0.0
    idle = (
        1.0
        if facts.last_visited_on is None
        else min(1.0, max(0, (as_of - facts.last_visited_on).days) / policy.stale_days)
    )
    values = {
        "low_self_declaration": 1.0 - share,
        "over_capacity": min(1.0, over),
        "recent_move_ins": min(1.0, facts.move_ins_recent / 3),
        "open_leads": min(1.0, float(facts.open_leads)),
        "not_visited_recently": idle,
    }
    return {name: round(value, 4) for name, value in values.items()}


def risk_of(signals: Mapping[str, float], policy: SamplingPolicy) -> float:
    return round(policy.base + sum(policy.weights.get(n, 0.0) * v for n, v in signals.items()), 4)


@dataclass(frozen=True)
class Pick:
    """One property of a plan and why it was picked."""

    property_id: str
    rank: int
    risk: float
    key: float
    signals: dict[str, float] = field(default_factory=dict)


def draw_key(seed: str, property_id: str, risk: float) -> float:
    """The property's sampling key: ``u ** (1 / risk)``, ``u`` from (seed, property id)."""
    digest = hashlib.sha256(f"{seed}\x1f{property_id}".encode()).digest()
    u = random.Random(digest).random() or math.ulp(0.0)  # (0, 1): 0.0 would tie every risk
    return round(float(u ** (1.0 / risk)), 12)


def draw(
    facts: Sequence[PropertyFacts],
    *,
    size: int,
    seed: str,
    as_of: date,
    policy: SamplingPolicy,
) -> list[Pick]:
    """The plan: ``size`` properties (all of them if fewer), highest key first."""
    if size < 1:
        raise DomainError("size", "must be at least 1")
    if not facts:
        raise DomainError("grid_id", "has no registered properties to plan visits to")
    scored = []
    for f in facts:
        signals = signals_of(f, as_of=as_of, policy=policy)
        risk = risk_of(signals, policy)
        scored.append((draw_key(seed, f.property_id, risk), f.property_id, risk, signals))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [
        Pick(property_id=pid, rank=i + 1, risk=risk, key=key, signals=signals)
        for i, (key, pid, risk, signals) in enumerate(scored[:size])
    ]


@dataclass(frozen=True)
class Staff:
    """One officer or grid worker available to a plan: how many visits they can make in the
    period, and in which shifts (錯時工作制: some work evenings, when workers are home)."""

    account: str
    capacity: int
    day: bool = True
    evening: bool = False


@dataclass(frozen=True)
class Assignment:
    property_id: str
    rank: int
    account: str
    shift: str  # "day" or "evening"


def assign(
    picks: Sequence[Pick], staff: Sequence[Staff], *, evening_share: float
) -> list[Assignment]:
    """Each pick to one person within their capacity (錯時工作制): the policy's share of the
    visits (rounded up) in the evening, spread over the ranks, to staff who work evenings;
    the rest in the day to staff who work days. Evening visits are placed first, then day
    ones; each goes to whoever of its shift has the most capacity left (ties: the first
    listed), so the load is even. A :class:`DomainError` on ``staff`` when they cannot
    cover the plan."""
    if not staff:
        raise DomainError("staff", "a plan is assigned to at least one person")
    accounts = [s.account for s in staff]
    if len(set(accounts)) != len(accounts):
        raise DomainError("staff", "a person is listed twice")
    ordered = sorted(picks, key=lambda p: p.rank)
    capacity = sum(s.capacity for s in staff)
    if capacity < len(ordered):
        raise DomainError("staff", f"their capacity {capacity} is below the plan's {len(ordered)}")
    evenings = math.ceil(len(ordered) * evening_share)
    step = len(ordered) / evenings if evenings else 0.0
    evening_ranks = {ordered[int(k * step)].rank for k in range(evenings)}
    left = {s.account: s.capacity for s in staff}
    order = {s.account: i for i, s in enumerate(staff)}
    chosen: dict[int, tuple[str, str]] = {}
    for shift in ("evening", "day"):
        for pick in ordered:
            if (pick.rank in evening_ranks) != (shift == "evening"):
                continue
            pool = [
                s
                for s in staff
                if (s.evening if shift == "evening" else s.day) and left[s.account] > 0
            ]
            if not pool:
                raise DomainError(
                    "staff", f"too few {shift} visits in their capacity for the plan's picks"
                )
            person = max(pool, key=lambda s: (left[s.account], -order[s.account]))
            left[person.account] -= 1
            chosen[pick.rank] = (person.account, shift)
    return [
        Assignment(p.property_id, p.rank, chosen[p.rank][0], chosen[p.rank][1]) for p in ordered
    ]
