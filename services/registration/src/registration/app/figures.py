"""The declaration figures projection: ``ResidenceDeclared`` -> per grid and month."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.envelope import Envelope
from common.events import Event
from registration.adapters import figures_repository
from registration.events import Channel, ResidenceDeclared


async def count_declaration(session: AsyncSession, event: Event, _envelope: Envelope) -> None:
    """Projection: the grid's monthly declaration figures (declaration rate and more)."""
    assert isinstance(event, ResidenceDeclared)
    self_declared = int(event.channel is not Channel.OFFICER)
    values = {
        "grid_id": event.grid_id,
        "month": event.declared_at.strftime("%Y-%m"),
        "declarations": 1,
        "self_declared": self_declared,
        "on_time": int(event.on_time),
        "over_capacity": int(event.over_capacity),
    }
    await figures_repository.count_declaration(session, values)
