"""Cross-inspections (交叉檢查): teams inspect other teams' grids, never their own; their
findings are compared and ranked per period (通報). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.errors import DomainError


@dataclass(frozen=True)
class Team:
    team_id: str
    home_grids: frozenset[str]
    members: frozenset[str]


def checked_assignments(
    teams: Mapping[str, Team], assignments: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(team, grid) pairs: every team known, never its own grid, one team per grid."""
    if not assignments:
        raise DomainError("assignments", "a cross-inspection assigns at least one team")
    taken: dict[str, str] = {}
    for i, (team_id, grid_id) in enumerate(assignments):
        team = teams.get(team_id)
        if team is None:
            raise DomainError(f"assignments.{i}.team_id", f"no team {team_id!r}")
        if grid_id in team.home_grids:
            raise DomainError(f"assignments.{i}.grid_id", "a team never inspects its own grid")
        if grid_id in taken:
            raise DomainError(f"assignments.{i}.grid_id", f"already assigned to {taken[grid_id]}")
        taken[grid_id] = team_id
    return list(assignments)


@dataclass(frozen=True)
class TeamResult:
    team_id: str
    grid_id: str
    visits: int
    occupants_met: int
    hazards_found: int
    rank: int = 0

    @property
    def findings(self) -> int:
        return self.occupants_met + self.hazards_found


def ranked(results: Sequence[TeamResult]) -> list[TeamResult]:
    """Most findings first, then most visits; ties share a rank (1, 2, 2, 4)."""
    order = sorted(results, key=lambda r: (-r.findings, -r.visits, r.team_id))
    out: list[TeamResult] = []
    for i, r in enumerate(order):
        tied = out and (out[-1].findings, out[-1].visits) == (r.findings, r.visits)
        rank = out[-1].rank if tied else i + 1
        out.append(
            TeamResult(r.team_id, r.grid_id, r.visits, r.occupants_met, r.hazards_found, rank)
        )
    return out
