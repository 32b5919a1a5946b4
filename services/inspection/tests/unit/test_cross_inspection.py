"""Cross-inspections: never a team's own grid; the ranking."""

from __future__ import annotations

import pytest

from common.errors import DomainError
from inspection.domain.cross import Team, TeamResult, checked_assignments, ranked

TEAMS = {
    "N": Team("N", frozenset({"G1"}), frozenset({"a"})),
    "S": Team("S", frozenset({"G2"}), frozenset({"b"})),
}


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ([], "assignments"),
        ([("N", "G1")], "assignments.0.grid_id"),  # its own grid
        ([("X", "G2")], "assignments.0.team_id"),
        ([("N", "G2"), ("S", "G2")], "assignments.1.grid_id"),  # one team per grid
    ],
)
def test_assignments_are_checked(pairs: list[tuple[str, str]], field: str) -> None:
    with pytest.raises(DomainError) as caught:
        checked_assignments(TEAMS, pairs)
    assert caught.value.field == field


def test_the_ranking_puts_most_findings_first_and_ties_share_a_rank() -> None:
    results = [
        TeamResult("A", "G1", visits=10, occupants_met=5, hazards_found=1),
        TeamResult("B", "G2", visits=8, occupants_met=9, hazards_found=3),
        TeamResult("C", "G3", visits=10, occupants_met=4, hazards_found=2),
        TeamResult("D", "G4", visits=2, occupants_met=0, hazards_found=0),
    ]

    order = [(r.team_id, r.rank) for r in ranked(results)]

    assert order == [("B", 1), ("A", 2), ("C", 2), ("D", 4)]
