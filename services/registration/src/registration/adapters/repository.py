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


async def load_property(session: AsyncSession, property_id: str) -> Property | None:
    row = (await session.execute(select(properties).where(properties.c.id == property_id))).first()
    if row is None:
        return None
    room_rows = (
        await session.execute(select(rooms).where(rooms.c.property_id == property_id))
    ).all()
    return Property(
        id=row.id,
        address=row.address,
        grid_id=row.grid_id,
        landlord_id=row.landlord_id,
        rooms={r.room_no: Room(r.room_no, r.capacity) for r in room_rows},
    )


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


async def active_occupants(session: AsyncSession, property_id: str, room_no: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(residences)
            .where(
                residences.c.property_id == property_id,
                residences.c.room_no == room_no,
                residences.c.ended_on.is_(None),
            )
        )
        or 0
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
