"""Loading and saving registration's aggregates (SQLAlchemy Core, one session each)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.pii import PiiCipher
from registration.adapters.tables import persons, properties, residences, rooms
from registration.domain.identity import ResidentId
from registration.domain.model import Property, Room
from registration.events import ResidenceDeclared


async def load_property_room(
    session: AsyncSession, property_id: str, room_no: str
) -> tuple[Property, int] | None:
    """The property with only ``room_no`` loaded, and that room's active occupants.

    One round trip: a declaration touches one room, and buildings have hundreds.
    """
    occupants = (
        select(func.count())
        .select_from(residences)
        .where(
            residences.c.property_id == properties.c.id,
            residences.c.room_no == room_no,
            residences.c.ended_on.is_(None),
        )
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(
                properties.c.id,
                properties.c.address,
                properties.c.grid_id,
                properties.c.landlord_id,
                rooms.c.capacity,
                occupants.label("occupants"),
            )
            .select_from(properties)
            .outerjoin(
                rooms, (rooms.c.property_id == properties.c.id) & (rooms.c.room_no == room_no)
            )
            .where(properties.c.id == property_id)
        )
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


def person_ref(cipher: PiiCipher, person: ResidentId) -> str:
    """The stable pseudonymous reference of a person, derived from a keyed hash."""
    return "P" + cipher.keyed_hash(person.value)[:23]


async def upsert_person(
    session: AsyncSession,
    cipher: PiiCipher,
    person: ResidentId,
    *,
    name: str,
    phone: str | None,
    now: datetime,
) -> str:
    """Save the person: one record per identity number, contact details updated."""
    id_hash = cipher.keyed_hash(person.value)
    ref = "P" + id_hash[:23]
    values = {
        "person_ref": ref,
        "id_hash": id_hash,
        "id_number_enc": cipher.encrypt(person.value),
        "name_enc": cipher.encrypt(name),
        "phone_enc": cipher.encrypt(phone) if phone else None,
        "gender": person.gender.value,
        "birth_date": person.birth_date,
        "origin_region": person.region_code,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(persons).values(values)
    update = {"name_enc": stmt.excluded.name_enc, "updated_at": stmt.excluded.updated_at}
    if phone:
        update["phone_enc"] = stmt.excluded.phone_enc
    await session.execute(stmt.on_conflict_do_update(index_elements=["id_hash"], set_=update))
    return ref


async def add_residence(session: AsyncSession, event: ResidenceDeclared, declared_by: str) -> None:
    await session.execute(
        insert(residences).values(
            id=event.residence_id,
            person_ref=event.person_ref,
            property_id=event.property_id,
            room_no=event.room_no,
            moved_in_on=event.moved_in_on,
            declared_at=event.declared_at,
            deadline=event.deadline,
            on_time=event.on_time,
            channel=event.channel.value,
            declared_by=declared_by,
            over_capacity=event.over_capacity,
        )
    )
