"""Cross-inspections (交叉檢查): teams, assignments to other teams' grids, the ranking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import Conflict, DomainError, NotFound
from common.publisher import Publisher
from inspection.adapters import cross_repository as repo
from inspection.domain.cross import checked_assignments, ranked
from inspection.events import CrossInspectionRanked, TeamRanking


def month_bounds(month: str, timezone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of ``month`` (``YYYY-MM``) in the office's time, as UTC instants."""
    year, number = int(month[:4]), int(month[5:])
    start = datetime.combine(datetime(year, number, 1), time(0), timezone)
    end = datetime.combine(datetime(year + number // 12, number % 12 + 1, 1), time(0), timezone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass(frozen=True)
class CrossInspections:
    publisher: Publisher
    clock: Clock
    timezone: tzinfo

    async def register_team(
        self, session: AsyncSession, team: dict[str, Any], _: Principal, __: Trace
    ) -> dict[str, Any]:
        if await repo.team_exists(session, team["team_id"]):
            raise DomainError("team_id", "is registered already")
        if not team["members"]:
            raise DomainError("members", "a team has members")
        await repo.add_team(session, **team, registered_at=self.clock.now())
        return {"team_id": team["team_id"]}

    async def assign(
        self,
        session: AsyncSession,
        month: str,
        pairs: list[tuple[str, str]],
        principal: Principal,
        _: Trace,
    ) -> dict[str, Any]:
        checked = checked_assignments(await repo.all_teams(session), pairs)
        cross_id = str(uuid.uuid4())
        await repo.add(
            session,
            {
                "cross_id": cross_id,
                "month": month,
                "status": "open",
                "created_by": principal.sub,
                "created_at": self.clock.now(),
            },
            checked,
        )
        return {"cross_id": cross_id, "assignments": len(checked)}

    async def circulate(
        self, session: AsyncSession, cross_id: str, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """Compare the teams' findings, rank them and circulate the ranking (通報)."""
        cross = await repo.lock(session, cross_id)
        if cross is None:
            raise NotFound("cross-inspection", cross_id)
        if cross.status != "open":
            raise Conflict(f"cross-inspection {cross_id} was circulated already")
        pairs = await repo.assignments(session, cross_id)
        teams = await repo.all_teams(session)
        start, end = month_bounds(cross.month, self.timezone)
        members = {t: teams[t].members for t, _ in pairs}
        ranking = [
            TeamRanking(rank=r.rank, team_id=r.team_id, grid_id=r.grid_id, visits=r.visits,
                        occupants_met=r.occupants_met, hazards_found=r.hazards_found)
            for r in ranked(await repo.results(session, pairs, members, start, end))
        ]  # fmt: skip
        now = self.clock.now()
        report = [r.model_dump() for r in ranking]
        await repo.circulate(session, cross_id, status="circulated", circulated_at=now,
                             ranking=report)  # fmt: skip
        await self.publisher.stage(
            session,
            [CrossInspectionRanked(cross_id=cross_id, month=cross.month, ranking=ranking,
                                   circulated_at=now)],
            trace,
        )  # fmt: skip
        return {"cross_id": cross_id, "month": cross.month, "ranking": report}
