"""Who may do what in penalties: its scopes, roles and authorisation rules.

Office staff (``admin``, ``officer``, ``grid_worker``) read the cases of their grids;
decisions, corrections and appeal rulings are for officers and admins of the grid; the
schedule is edited by admins. A landlord or employer (``party_id`` of its token) sees
its own cases and notices and appeals its own decisions, nothing else.
"""

from __future__ import annotations

from typing import Any

from common.auth import Principal
from common.errors import Forbidden, NotFound

READ = "penalties:read"
WRITE = "penalties:write"

OFFICE_ROLES = frozenset({"admin", "officer", "grid_worker"})
DECIDERS = frozenset({"admin", "officer"})
PARTY_ROLES = frozenset({"landlord", "employer"})
READERS = OFFICE_ROLES | PARTY_ROLES
ADMINS = frozenset({"admin"})


def is_party_of(principal: Principal, case: Any) -> bool:
    return (
        principal.role in PARTY_ROLES
        and bool(principal.party_id)
        and principal.party_id == case.party_id
    )


def authorize_read(principal: Principal, case: Any) -> None:
    """Staff of the case's grid, or its own party. Anyone else is told it does not exist
    (a case number says nothing about whether someone else has a case)."""
    if principal.role in OFFICE_ROLES and principal.covers_grid(case.grid_id):
        return
    if is_party_of(principal, case):
        return
    raise NotFound("case", case.case_id)


def authorize_decide(principal: Principal, case: Any) -> None:
    """Officers and admins of the case's grid; 404 for those who cannot see the case."""
    if principal.role in DECIDERS and principal.covers_grid(case.grid_id):
        return
    authorize_read(principal, case)
    raise Forbidden("decisions on a case are made by the officers of its grid")


def grids_of(principal: Principal) -> list[str] | None:
    """The grids whose cases the caller lists (None: all)."""
    if principal.role == "admin":
        return None
    if principal.role in OFFICE_ROLES:
        return list(principal.grids)
    return []
