"""Who may do what in inspection: its scopes, roles and authorisation rules.

Office staff (``admin``, ``officer``, ``grid_worker``) act only in the grids of their
token, or for visits in the grid their cross-inspection team is assigned; nobody else
plans or reads plans.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.errors import Forbidden
from inspection.adapters import cross_repository

READ = "inspection:read"
WRITE = "inspection:write"

OFFICE_ROLES = frozenset({"admin", "officer", "grid_worker"})
PLANNERS = frozenset({"admin", "officer"})
"""Who draws spot-check plans: officers (grid workers carry them out)."""


async def authorize_visit(
    session: AsyncSession, principal: Principal, grid_id: str, month: str
) -> None:
    """Staff of the grid, or a member of a cross-inspection team assigned to it that month
    (交叉檢查: the team works in another team's grid, never its own)."""
    if principal.role in OFFICE_ROLES and principal.covers_grid(grid_id):
        return
    if principal.role in OFFICE_ROLES and await cross_repository.assigned(
        session, principal.sub, grid_id, month
    ):
        return
    raise Forbidden(f"grid {grid_id} is outside the caller's grids")


def authorize_grid(principal: Principal, grid_id: str) -> None:
    """Office staff whose token covers the grid."""
    if principal.role not in OFFICE_ROLES or not principal.covers_grid(grid_id):
        raise Forbidden(f"grid {grid_id} is outside the caller's grids")
