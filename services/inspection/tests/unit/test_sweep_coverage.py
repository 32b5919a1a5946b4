"""Sweep coverage: every building, every household, every person (區不漏棟、棟不漏戶、戶不漏人)."""

from __future__ import annotations

from datetime import date

import pytest

from common.errors import DomainError
from inspection.domain.sweeps import Building, checked_plan, coverage

GRID = [
    Building("A", ("101", "102"), {"101": 2, "102": 1}),
    Building("B", ("101",), {"101": 3}),
    Building("C", ("1F",), {}),
]


def test_coverage_counts_buildings_households_and_persons_and_lists_what_is_missing() -> None:
    found = coverage(GRID, {"A": {"101": 2, "102": 0}, "B": {"101": 1}})

    assert (found.buildings, found.buildings_visited) == (3, 2)
    assert (found.households, found.households_entered) == (4, 3)
    assert (found.persons_declared, found.persons_seen) == (6, 3)
    assert found.missing_buildings == ["C"]
    assert found.missing_households == [("C", "1F")]
    assert found.unseen_persons == [("A", "102", 1), ("B", "101", 2)]


def test_someone_met_beyond_the_declared_does_not_count_twice() -> None:
    found = coverage(GRID[:1], {"A": {"101": 5, "102": 1}})

    assert found.persons_seen == 3 and found.unseen_persons == []


@pytest.mark.parametrize(
    ("grids", "ends_on", "team", "field"),
    [
        ([], date(2026, 3, 12), ["o1"], "grid_ids"),
        (["G1", "G1"], date(2026, 3, 12), ["o1"], "grid_ids"),
        (["G1"], date(2026, 3, 9), ["o1"], "ends_on"),
        (["G1"], date(2026, 5, 1), ["o1"], "ends_on"),
        (["G1"], date(2026, 3, 12), [], "team"),
    ],
)
def test_a_sweep_plan_is_checked(
    grids: list[str], ends_on: date, team: list[str], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        checked_plan(grids, date(2026, 3, 10), ends_on, team)
    assert caught.value.field == field
