"""Properties' landlords and employers, from registration's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from penalties.adapters.cases_tables import cases
from penalties.adapters.parties_tables import employers, properties


async def add_property(session: AsyncSession, **values: Any) -> None:
    insert = conflict_insert(session)(properties).values(**values)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[properties.c.property_id],
            set_={k: insert.excluded[k] for k in values if k != "property_id"},
        )
    )
    # Cases opened before the property was known (another topic ran ahead) get their party.
    await session.execute(
        update(cases)
        .where(cases.c.property_id == values["property_id"], cases.c.party_id.is_(None))
        .values(party_id=values["landlord_id"])
    )


async def add_employer(session: AsyncSession, **values: Any) -> None:
    insert = conflict_insert(session)(employers).values(**values)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[employers.c.employer_id],
            set_={k: insert.excluded[k] for k in values if k != "employer_id"},
        )
    )


async def property_of(session: AsyncSession, property_id: str) -> Any:
    query = select(properties).where(properties.c.property_id == property_id)
    return (await session.execute(query)).first()


async def employer_of(session: AsyncSession, employer_id: str) -> Any:
    query = select(employers).where(employers.c.employer_id == employer_id)
    return (await session.execute(query)).first()
