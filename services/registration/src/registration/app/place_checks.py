"""Checks the property and employer handlers call into places, without importing them.

Kept apart from :mod:`registration.app.places` (which imports
:mod:`registration.app.handlers`) so that ``handlers`` can import these without a cycle.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.errors import DomainError
from registration.adapters import places_repository as repo


async def acts_as_manager(
    session: AsyncSession, principal: Principal, *, property_id: str, landlord_id: str
) -> bool:
    """The caller is a current manager (二房東, 物業) of the property, acting for its landlord.

    A manager calls with role ``landlord`` and ``party_id`` = its own party id; it may
    then do for the property whatever its landlord may do.
    """
    return (
        principal.role == "landlord"
        and bool(principal.party_id)
        and principal.party_id != landlord_id
        and await repo.is_active_manager(session, property_id, principal.party_id or "")
    )


async def require_grid(session: AsyncSession, grid_id: str) -> None:
    """DomainError on ``grid_id`` unless the grid is registered (``POST /grids``)."""
    if await repo.load_grid(session, grid_id) is None:
        raise DomainError("grid_id", f"no grid {grid_id!r} is registered (POST /grids)")
