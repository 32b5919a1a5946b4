"""Loading and saving registration's aggregates (SQLAlchemy Core, one session each)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registration.adapters.residences_tables import properties, residences, rooms
from registration.domain.residences import Property, Residence, Room
from registration.events import ResidenceDeclared, ResidenceEnded

_ROOM_OCCUPANTS = (
    select(func.count())
    .select_from(residences)
    .where(
        residences.c.property_id == properties.c.id,
        residences.c.room_no == bindparam("room_no"),
        residences.c.ended_on.is_(None),
    )
    .scalar_subquery()
)
# Built once (hot): SQLAlchemy finds its compiled form without walking it again.
_PROPERTY_ROOM = (
    select(
        properties.c.id,
        properties.c.address,
        properties.c.grid_id,
        properties.c.landlord_id,
        rooms.c.capacity,
        _ROOM_OCCUPANTS.label("occupants"),
    )
    .select_from(properties)
    .outerjoin(
        rooms,
        (rooms.c.property_id == properties.c.id) & (rooms.c.room_no == bindparam("room_no")),
    )
    .where(properties.c.id == bindparam("property_id"))
)


async def load_property_room(
    session: AsyncSession, property_id: str, room_no: str
) -> tuple[Property, int] | None:
    """The property with only ``room_no`` loaded, and that room's active occupants.

    One round trip: a declaration touches one room, and buildings have hundreds.
    """
    row = (
        await session.execute(_PROPERTY_ROOM, {"property_id": property_id, "room_no": room_no})
    ).first()
    if row is None:
        return None
    found = {room_no: Room(room_no, row.capacity)} if row.capacity is not None else {}
    prop = Property(
        id=row.id,
        address=row.address,
        grid_id=row.grid_id,
        landlord_id=row.landlord_id,
        rooms=found,
    )
    return prop, int(row.occupants)


async def add_property(
    session: AsyncSession, prop: Property, *, channel: str, registered_by: str, now: datetime
) -> None:
    await session.execute(
        insert(properties).values(
            id=prop.id,
            address=prop.address,
            grid_id=prop.grid_id,
            landlord_id=prop.landlord_id,
            channel=channel,
            registered_by=registered_by,
            registered_at=now,
        )
    )
    await session.execute(
        insert(rooms),
        [
            {"property_id": prop.id, "room_no": r.number, "capacity": r.capacity}
            for r in prop.rooms.values()
        ],
    )


async def add_residence(
    session: AsyncSession,
    event: ResidenceDeclared,
    declared_by: str,
    *,
    finding_id: str | None = None,
) -> None:
    await session.execute(
        _INSERT_RESIDENCE,
        {
            "finding_id": finding_id,
            "id": event.residence_id,
            "person_ref": event.person_ref,
            "property_id": event.property_id,
            "room_no": event.room_no,
            "moved_in_on": event.moved_in_on,
            "declared_at": event.declared_at,
            "deadline": event.deadline,
            "on_time": event.on_time,
            "channel": event.channel.value,
            "declared_by": declared_by,
            "over_capacity": event.over_capacity,
        },
    )


_INSERT_RESIDENCE = insert(residences)


def _residences() -> Select[Any]:
    """Residences with their property's grid; locked (PostgreSQL) so that a move-out and a
    move-in elsewhere of the same person do not both end the same residence."""
    return (
        select(
            residences.c.id,
            residences.c.property_id,
            properties.c.grid_id,
            residences.c.room_no,
            residences.c.person_ref,
            residences.c.moved_in_on,
            residences.c.ended_on,
        )
        .select_from(residences)
        .join(properties, properties.c.id == residences.c.property_id)
        .with_for_update(of=residences)
    )


def _residence(row: Any) -> Residence:
    return Residence(
        id=row.id,
        property_id=row.property_id,
        grid_id=row.grid_id,
        room_no=row.room_no,
        person_ref=row.person_ref,
        moved_in_on=row.moved_in_on,
    )


async def active_residences(session: AsyncSession, person_ref: str) -> list[Residence]:
    """Where the person lives now (at most one, unless declared before that was a rule)."""
    rows = await session.execute(_ACTIVE_RESIDENCES, {"person_ref": person_ref})
    return [_residence(r) for r in rows]


_ACTIVE_RESIDENCES = (
    _residences()
    .where(residences.c.person_ref == bindparam("person_ref"), residences.c.ended_on.is_(None))
    .order_by(residences.c.moved_in_on)
)


async def load_residence(
    session: AsyncSession, residence_id: str
) -> tuple[Residence, date | None] | None:
    """A residence and the day it ended (None: it is active)."""
    row = (await session.execute(_residences().where(residences.c.id == residence_id))).first()
    return None if row is None else (_residence(row), row.ended_on)


async def end_residences(
    session: AsyncSession, events: list[ResidenceEnded], *, ended_by: str
) -> int:
    """Mark residences ended; returns how many were still active (and so were ended)."""
    ended = 0
    for event in events:
        result = await session.execute(
            update(residences)
            .where(residences.c.id == event.residence_id, residences.c.ended_on.is_(None))
            .values(
                ended_on=event.moved_out_on,
                end_reason=event.reason.value,
                ended_by=ended_by,
                ended_at=event.ended_at,
                superseded_by=event.superseded_by,
            )
        )
        ended += result.rowcount  # type: ignore[attr-defined]  # CursorResult
    return ended


async def property_view(session: AsyncSession, property_id: str) -> dict[str, Any] | None:
    """A property with its rooms and current residences, as the API shows it; or None."""
    prop = (await session.execute(select(properties).where(properties.c.id == property_id))).first()
    if prop is None:
        return None
    room_rows = await session.execute(
        select(rooms).where(rooms.c.property_id == property_id).order_by(rooms.c.room_no)
    )
    occupants = await session.execute(
        select(residences)
        .where(residences.c.property_id == property_id, residences.c.ended_on.is_(None))
        .order_by(residences.c.declared_at)
    )
    return {
        "property_id": prop.id,
        "address": prop.address,
        "grid_id": prop.grid_id,
        "landlord_id": prop.landlord_id,
        "registered_at": prop.registered_at,
        "rooms": [{"room_no": r.room_no, "capacity": r.capacity} for r in room_rows],
        "residences": [
            {
                "residence_id": o.id,
                "person_ref": o.person_ref,
                "room_no": o.room_no,
                "moved_in_on": o.moved_in_on,
                "declared_at": o.declared_at,
                "on_time": o.on_time,
                "channel": o.channel,
                "over_capacity": o.over_capacity,
            }
            for o in occupants
        ],
    }
