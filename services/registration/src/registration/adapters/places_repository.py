"""Loading and saving grids, parties, property managers and sweep discoveries (Core)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from registration.adapters.persons_tables import persons
from registration.adapters.places_tables import (
    grids,
    parties,
    property_discoveries,
    property_managers,
)
from registration.adapters.residences_tables import properties
from registration.domain.places import Grid, ManagerKind, Party, PartyKind, PropertyManagers

# -- grids -------------------------------------------------------------------------------


async def add_grid(session: AsyncSession, grid: Grid, *, registered_by: str, now: datetime) -> None:
    await session.execute(
        insert(grids).values(
            id=grid.id,
            name=grid.name,
            community=grid.community,
            grid_worker=grid.grid_worker,
            registered_by=registered_by,
            registered_at=now,
        )
    )


async def load_grid(session: AsyncSession, grid_id: str) -> Any:
    return (await session.execute(select(grids).where(grids.c.id == grid_id))).first()


async def list_grids(
    session: AsyncSession,
    *,
    community: str | None,
    only: Collection[str] | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """(total, page) of grids, by id; ``only`` restricts to those ids (None: all)."""
    where = []
    if community is not None:
        where.append(grids.c.community == community)
    if only is not None:
        where.append(grids.c.id.in_(list(only)))
    total = await session.scalar(select(func.count()).select_from(grids).where(*where))
    page = await session.execute(
        select(grids).where(*where).order_by(grids.c.id).limit(limit).offset(offset)
    )
    return int(total or 0), list(page.all())


async def grid_ids_of_community(session: AsyncSession, community: str) -> list[str]:
    rows = await session.scalars(
        select(grids.c.id).where(grids.c.community == community).order_by(grids.c.id)
    )
    return list(rows.all())


# -- parties -----------------------------------------------------------------------------


def party_of(row: Any) -> Party:
    return Party(
        id=row.id,
        kind=PartyKind(row.kind),
        person_ref=row.person_ref,
        credit_code=row.credit_code,
        name=row.name,
    )


async def load_party(session: AsyncSession, party_id: str) -> Party | None:
    row = (await session.execute(select(parties).where(parties.c.id == party_id))).first()
    return party_of(row) if row is not None else None


async def add_party(
    session: AsyncSession, party: Party, *, registered_by: str, now: datetime
) -> None:
    await session.execute(
        insert(parties).values(
            id=party.id,
            kind=party.kind.value,
            person_ref=party.person_ref,
            credit_code=party.credit_code,
            name=party.name,
            registered_by=registered_by,
            registered_at=now,
        )
    )


async def person_exists(session: AsyncSession, person_ref: str) -> bool:
    found = await session.scalar(
        select(persons.c.person_ref).where(persons.c.person_ref == person_ref)
    )
    return found is not None


# -- properties and their managers -------------------------------------------------------


async def load_property(
    session: AsyncSession, property_id: str, *, for_update: bool = False
) -> Any:
    """The property's row (id, address, grid, landlord); ``for_update`` serialises commands."""
    query = select(
        properties.c.id, properties.c.address, properties.c.grid_id, properties.c.landlord_id
    ).where(properties.c.id == property_id)
    if for_update:
        query = query.with_for_update()  # PostgreSQL; SQLite serialises writers anyway
    return (await session.execute(query)).first()


async def load_managers(session: AsyncSession, prop: Any) -> PropertyManagers:
    """The managers aggregate of a property row from :func:`load_property`."""
    rows = await session.execute(
        select(property_managers.c.party_id, property_managers.c.kind).where(
            property_managers.c.property_id == prop.id, property_managers.c.removed_at.is_(None)
        )
    )
    return PropertyManagers(
        property_id=prop.id,
        grid_id=prop.grid_id,
        landlord_id=prop.landlord_id,
        active={r.party_id: ManagerKind(r.kind) for r in rows.all()},
    )


async def add_manager(
    session: AsyncSession,
    *,
    property_id: str,
    party_id: str,
    kind: ManagerKind,
    assigned_by: str,
    now: datetime,
) -> str:
    manager_id = str(uuid.uuid4())
    await session.execute(
        insert(property_managers).values(
            id=manager_id,
            property_id=property_id,
            party_id=party_id,
            kind=kind.value,
            assigned_by=assigned_by,
            assigned_at=now,
        )
    )
    return manager_id


async def end_manager(
    session: AsyncSession, *, property_id: str, party_id: str, removed_by: str, now: datetime
) -> None:
    await session.execute(
        update(property_managers)
        .where(
            property_managers.c.property_id == property_id,
            property_managers.c.party_id == party_id,
            property_managers.c.removed_at.is_(None),
        )
        .values(removed_by=removed_by, removed_at=now)
    )


async def is_active_manager(session: AsyncSession, property_id: str, party_id: str) -> bool:
    found = await session.scalar(
        select(property_managers.c.id).where(
            property_managers.c.property_id == property_id,
            property_managers.c.party_id == party_id,
            property_managers.c.removed_at.is_(None),
        )
    )
    return found is not None


async def managers_of(
    session: AsyncSession, property_id: str, *, include_removed: bool
) -> list[Any]:
    """Managers with their party, oldest assignment first."""
    query = (
        select(property_managers, parties.c.kind.label("party_kind"), parties.c.name)
        .join(parties, parties.c.id == property_managers.c.party_id)
        .where(property_managers.c.property_id == property_id)
        .order_by(property_managers.c.assigned_at, property_managers.c.id)
    )
    if not include_removed:
        query = query.where(property_managers.c.removed_at.is_(None))
    return list((await session.execute(query)).all())


async def property_at(session: AsyncSession, grid_id: str, address: str) -> str | None:
    """A property registered at exactly this address in the grid (the first one)."""
    found = await session.scalar(
        select(properties.c.id)
        .where(properties.c.grid_id == grid_id, properties.c.address == address)
        .order_by(properties.c.registered_at)
        .limit(1)
    )
    return str(found) if found is not None else None


# -- sweep discoveries -------------------------------------------------------------------


async def load_discovery(
    session: AsyncSession, discovery_id: str, *, for_update: bool = False
) -> Any:
    query = select(property_discoveries).where(property_discoveries.c.discovery_id == discovery_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def add_discovery(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(property_discoveries).values(**values))


async def settle_discovery(
    session: AsyncSession, discovery_id: str, *, status: str, property_id: str | None, **extra: Any
) -> None:
    await session.execute(
        update(property_discoveries)
        .where(property_discoveries.c.discovery_id == discovery_id)
        .values(status=status, property_id=property_id, **extra)
    )


async def list_discoveries(
    session: AsyncSession, *, grid_id: str, status: str | None, limit: int, offset: int
) -> tuple[int, list[Any]]:
    where = [property_discoveries.c.grid_id == grid_id]
    if status is not None:
        where.append(property_discoveries.c.status == status)
    total = await session.scalar(
        select(func.count()).select_from(property_discoveries).where(*where)
    )
    page = await session.execute(
        select(property_discoveries)
        .where(*where)
        .order_by(property_discoveries.c.discovered_at, property_discoveries.c.discovery_id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(page.all())
