"""The noticeboard's tables and the statements over them."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, MetaData, String, Table, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import NAMING, conflict_insert
from noticeboard.domain import Notice

metadata = MetaData(naming_convention=NAMING)

notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(36), primary_key=True),
    Column("grid_id", String(50), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("posted_by", String(200), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("until", Date, nullable=False),
)

grid_buildings = Table(
    "grid_buildings",
    metadata,
    Column("property_id", String, primary_key=True),  # unbounded, like registration's ids
    Column("grid_id", String, nullable=False, index=True),
)


async def save_notice(session: AsyncSession, notice: Notice) -> None:
    await session.execute(notices.insert().values(**notice.__dict__))


async def notices_of(session: AsyncSession, grid_id: str) -> list[Notice]:
    rows = await session.execute(
        select(notices).where(notices.c.grid_id == grid_id).order_by(notices.c.posted_at.desc())
    )
    return [Notice(**row._mapping) for row in rows]


async def add_building(session: AsyncSession, property_id: str, grid_id: str) -> None:
    """Idempotent: a building registered twice (or replayed) counts once."""
    await session.execute(
        conflict_insert(session)(grid_buildings)
        .values(property_id=property_id, grid_id=grid_id)
        .on_conflict_do_nothing(index_elements=["property_id"])
    )


async def buildings_in(session: AsyncSession, grid_id: str) -> int:
    count = await session.scalar(
        select(func.count()).select_from(grid_buildings).where(grid_buildings.c.grid_id == grid_id)
    )
    return int(count or 0)
