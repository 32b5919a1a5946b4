"""Spot-check sampling: reproducible, risk-weighted, explained (issue 11, item 1)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from common.errors import DomainError
from inspection.domain.sampling import (
    Pick,
    PropertyFacts,
    SamplingPolicy,
    Staff,
    assign,
    draw,
    signals_of,
)

POLICY = SamplingPolicy(
    version="test-1",
    source="test",
    weights={"low_self_declaration": 3, "over_capacity": 3, "open_leads": 4,
             "recent_move_ins": 1, "not_visited_recently": 2},
)  # fmt: skip
AS_OF = date(2026, 3, 9)


def facts(pid: str, **kw: int) -> PropertyFacts:
    values = {"capacity": 10, "residents": 5, "declarations": 5, "self_declared": 5,
              "move_ins_recent": 0, "open_leads": 0} | kw  # fmt: skip
    return PropertyFacts(property_id=pid, last_visited_on=AS_OF, **values)


GRID = [facts(f"P{i:03d}") for i in range(40)] + [
    facts("RISKY", self_declared=0, residents=15, open_leads=2, move_ins_recent=3)
]


def test_the_same_seed_and_facts_give_the_same_plan_in_any_order() -> None:
    first = draw(GRID, size=8, seed="WT-G03-2026-03", as_of=AS_OF, policy=POLICY)
    again = draw(list(reversed(GRID)), size=8, seed="WT-G03-2026-03", as_of=AS_OF, policy=POLICY)
    other = draw(GRID, size=8, seed="another", as_of=AS_OF, policy=POLICY)

    assert first == again
    assert [p.property_id for p in first] != [p.property_id for p in other]
    assert [p.rank for p in first] == list(range(1, 9))


def test_a_property_s_pick_does_not_depend_on_the_other_properties() -> None:
    alone = draw(GRID[:10], size=10, seed="s", as_of=AS_OF, policy=POLICY)
    among = draw(GRID, size=len(GRID), seed="s", as_of=AS_OF, policy=POLICY)

    keys = {p.property_id: p.key for p in among}
    assert all(keys[p.property_id] == p.key for p in alone)


def test_risk_raises_the_chance_of_a_visit() -> None:
    picked = Counter(
        p.property_id
        for seed in range(300)
        for p in draw(GRID, size=4, seed=str(seed), as_of=AS_OF, policy=POLICY)
    )
    # RISKY's risk is 10.5 against 1 for the others: in about two plans of 4 (of 41) in
    # three; an ordinary property in about one in twelve.
    ordinary = [n for pid, n in picked.items() if pid != "RISKY"]
    assert picked["RISKY"] > 150
    assert picked["RISKY"] > 5 * sum(ordinary) / 40
    assert max(ordinary) < picked["RISKY"] / 2


def test_every_pick_says_why() -> None:
    (risky,) = [p for p in draw(GRID, size=41, seed="s", as_of=AS_OF, policy=POLICY)
                if p.property_id == "RISKY"]  # fmt: skip

    assert risky.signals == {
        "low_self_declaration": 1.0,
        "over_capacity": 0.5,
        "recent_move_ins": 1.0,
        "open_leads": 1.0,
        "not_visited_recently": 0.0,
    }
    assert risky.risk == 1 + 3 * 1.0 + 3 * 0.5 + 1 * 1.0 + 4 * 1.0


def test_never_visited_counts_fully_and_a_visit_ages_over_the_policy_s_days() -> None:
    never = PropertyFacts("P", 10, 0, 0, 0, 0, 0, last_visited_on=None)
    ninety = PropertyFacts("P", 10, 0, 0, 0, 0, 0, last_visited_on=date(2025, 12, 9))

    assert signals_of(never, as_of=AS_OF, policy=POLICY)["not_visited_recently"] == 1.0
    assert signals_of(ninety, as_of=AS_OF, policy=POLICY)["not_visited_recently"] == 0.5


def test_a_grid_without_properties_or_a_size_below_one_is_refused() -> None:
    with pytest.raises(DomainError) as empty:
        draw([], size=3, seed="s", as_of=AS_OF, policy=POLICY)
    with pytest.raises(DomainError) as zero:
        draw(GRID, size=0, seed="s", as_of=AS_OF, policy=POLICY)

    assert (empty.value.field, zero.value.field) == ("grid_id", "size")


def test_a_policy_weighing_an_unknown_signal_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown signals"):
        SamplingPolicy(version="x", source="x", weights={"horoscope": 1.0})


def picks(n: int) -> list[Pick]:
    return [Pick(property_id=f"P{i}", rank=i + 1, risk=1.0, key=0.5) for i in range(n)]


def test_visits_are_assigned_within_capacity_with_the_evening_share() -> None:
    staff = [Staff("officer-a", 4, day=True, evening=True), Staff("worker-b", 6),
             Staff("worker-c", 6, day=False, evening=True)]  # fmt: skip

    plan = assign(picks(10), staff, evening_share=0.3)

    evening = [a for a in plan if a.shift == "evening"]
    assert len(evening) == 3  # 30% of 10, spread over the ranks
    assert [a.rank for a in evening] == [1, 4, 7]
    assert {a.account for a in evening} <= {"officer-a", "worker-c"}
    assert all(a.account != "worker-c" for a in plan if a.shift == "day")  # evenings only
    load = Counter(a.account for a in plan)
    assert all(load[s.account] <= s.capacity for s in staff)
    assert sorted(a.rank for a in plan) == list(range(1, 11))


@pytest.mark.parametrize(
    ("staff", "reason"),
    [
        ([], "at least one"),
        ([Staff("a", 5), Staff("a", 5)], "twice"),
        ([Staff("a", 2, evening=True)], "below"),  # 10 visits, capacity 2
        ([Staff("a", 10)], "evening"),  # nobody works evenings
        ([Staff("a", 3, evening=True, day=False), Staff("b", 3)], "day"),
    ],
)
def test_staff_who_cannot_cover_the_plan_are_refused(staff: list[Staff], reason: str) -> None:
    with pytest.raises(DomainError) as caught:
        assign(picks(10) if reason != "day" else picks(5), staff, evening_share=0.2)
    assert caught.value.field == "staff" and reason in caught.value.message
