"""Staff assessment (考核): each officer's and grid worker's month, with the shares the
office assesses (evening visits, verification on time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.errors import Forbidden
from inspection.adapters import assessment_repository as repo
from inspection.app.access import authorize_grid
from inspection.app.cross import month_bounds


@dataclass(frozen=True)
class Assessment:
    timezone: tzinfo
    evening_share_wanted: float

    async def month(
        self, session: AsyncSession, principal: Principal, *, month: str, grid_id: str | None
    ) -> dict[str, Any]:
        if grid_id is not None:
            authorize_grid(principal, grid_id)
            grids: list[str] | None = [grid_id]
        elif principal.role == "admin":
            grids = None
        else:
            raise Forbidden("name a grid_id: only administrators assess every grid at once")
        start, end = month_bounds(month, self.timezone)
        figures = await repo.month_of_work(session, grids, month, start, end)
        return {
            "month": month,
            "grid_id": grid_id,
            "evening_share_wanted": self.evening_share_wanted,
            "staff": [
                {
                    "account": account,
                    **f,
                    "evening_share": _share(f["evening_visits"], f["visits_completed"]),
                    "tasks_on_time_share": _share(f["tasks_on_time"], f["tasks_verified"]),
                }
                for account, f in sorted(figures.items())
            ],
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
