"""The check the property and employer handlers make of places, without importing them.

Kept apart from :mod:`registration.app.places` (which imports
:mod:`registration.app.residences`) so that ``handlers`` can import it without a cycle.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.errors import DomainError
from registration.adapters import places_repository as repo


async def require_grid(session: AsyncSession, grid_id: str) -> None:
    """DomainError on ``grid_id`` unless the grid is registered (``POST /grids``)."""
    if await repo.load_grid(session, grid_id) is None:
        raise DomainError("grid_id", f"no grid {grid_id!r} is registered (POST /grids)")
