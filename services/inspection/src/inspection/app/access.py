"""Who may do what in inspection: its scopes, roles and authorisation rules.

Office staff (``admin``, ``officer``, ``grid_worker``) act only in the grids of their
token; nobody else plans or reads plans.
"""

from __future__ import annotations

from common.auth import Principal
from common.errors import Forbidden

READ = "inspection:read"
WRITE = "inspection:write"

OFFICE_ROLES = frozenset({"admin", "officer", "grid_worker"})
PLANNERS = frozenset({"admin", "officer"})
"""Who draws spot-check plans: officers (grid workers carry them out)."""


def authorize_grid(principal: Principal, grid_id: str) -> None:
    """Office staff whose token covers the grid."""
    if principal.role not in OFFICE_ROLES or not principal.covers_grid(grid_id):
        raise Forbidden(f"grid {grid_id} is outside the caller's grids")
