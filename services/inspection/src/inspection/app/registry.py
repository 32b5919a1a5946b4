"""The registry projection: registration's public events -> inspection's own store.

Inbox handlers (``async (session, event, envelope)``); each is idempotent by its key, so
a redelivery or a replay changes nothing, and the inbox applies each event once anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.envelope import Envelope
from common.events import Event
from inspection.adapters import registry_repository as repo
from inspection.upstream.registration import (
    Channel,
    LeadClosed,
    OccupantFindingSettled,
    PropertyRegistered,
    ResidenceDeclared,
    ResidenceEnded,
    UnregisteredOccupantSuspected,
)


async def on_property_registered(session: AsyncSession, event: Event, _: Envelope) -> None:
    assert isinstance(event, PropertyRegistered)
    rooms = {room.room_no: room.capacity for room in event.rooms}
    await repo.add_property(session, event.property_id, event.grid_id, rooms)


async def on_residence_declared(session: AsyncSession, event: Event, _: Envelope) -> None:
    assert isinstance(event, ResidenceDeclared)
    await repo.add_residence(
        session,
        residence_id=event.residence_id,
        property_id=event.property_id,
        room_no=event.room_no,
        person_ref=event.person_ref,
        moved_in_on=event.moved_in_on,
        self_declared=int(event.channel is not Channel.OFFICER),
        ended=0,
    )


async def on_residence_ended(session: AsyncSession, event: Event, _: Envelope) -> None:
    assert isinstance(event, ResidenceEnded)
    await repo.end_residence(session, event.residence_id)


async def on_finding_settled(session: AsyncSession, event: Event, _: Envelope) -> None:
    assert isinstance(event, OccupantFindingSettled)
    await repo.settle_finding(session, event.finding_id, event.property_id, event.outcome.value)


Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]


def handlers(*, on_lead: Handler, on_lead_closed: Handler) -> dict[type[Event], Handler]:
    """The registry's handlers; registration's leads also open and close verification
    tasks (:mod:`inspection.app.verification`), in the same transaction."""
    return {
        PropertyRegistered: on_property_registered,
        ResidenceDeclared: on_residence_declared,
        ResidenceEnded: on_residence_ended,
        UnregisteredOccupantSuspected: on_lead,
        LeadClosed: on_lead_closed,
        OccupantFindingSettled: on_finding_settled,
    }
