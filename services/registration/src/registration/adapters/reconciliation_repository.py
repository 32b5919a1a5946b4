"""Reading and writing sightings, entry keys and leads (SQLAlchemy Core, caller's session).

The two statements every access-control batch runs — remember the entries' keys, add to
the sightings — are one statement each however large the batch. On PostgreSQL they bind
one array per column and ``unnest`` them: the SQL text never changes (asyncpg reuses its
prepared statement) and binding costs a handful of parameters instead of thousands.
SQLite (tests, the embedded stack) gets the equivalent multi-row ``INSERT``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, exists, func, select, text, tuple_, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from registration.adapters.persons_tables import persons
from registration.adapters.reconciliation_tables import (
    access_entry_keys,
    access_sightings,
    five_elements_lists,
    leads,
    property_addresses,
)
from registration.adapters.residences_tables import properties, residences
from registration.domain.reconciliation import DaySighting, SubjectKind

T = TypeVar("T")
Pair = tuple[str, str]  # (subject_hash, property_id)

# Rows per statement where the dialect binds one parameter per value (SQLite, and IN lists
# on PostgreSQL): well under both drivers' limit of 32,766 parameters.
CHUNK = 1000

OPEN, CLOSED = "open", "closed"


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything is stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# -- access-control entries --------------------------------------------------------------------


async def plan_for_this_batch(session: AsyncSession) -> None:
    """Have PostgreSQL plan this transaction's statements for their actual arrays.

    Prepared statements switch to a generic plan after five runs, and a generic plan
    cannot see how many pairs the arrays hold: for the lead queries it picked nested
    loops 30 times slower than the custom plan (290 ms against 10 ms for 2,000 pairs).
    Planning each batch's few statements costs well under a millisecond.
    """
    if is_postgres(session):
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


_PG_REMEMBER = text(
    "INSERT INTO access_entry_keys (day, key) "
    "SELECT * FROM unnest(CAST(:days AS date[]), CAST(:keys AS bigint[])) "
    "ON CONFLICT DO NOTHING RETURNING day, key"
)

_PG_ADD_SIGHTINGS = text(
    "INSERT INTO access_sightings "
    "(subject_hash, property_id, day, subject_kind, entries, first_seen, last_seen) "
    "SELECT * FROM unnest(CAST(:subjects AS text[]), CAST(:properties AS text[]), "
    "CAST(:days AS date[]), CAST(:kinds AS text[]), CAST(:entries AS integer[]), "
    "CAST(:firsts AS timestamptz[]), CAST(:lasts AS timestamptz[])) "
    "ON CONFLICT (subject_hash, property_id, day) DO UPDATE SET "
    "entries = access_sightings.entries + excluded.entries, "
    "first_seen = LEAST(access_sightings.first_seen, excluded.first_seen), "
    "last_seen = GREATEST(access_sightings.last_seen, excluded.last_seen)"
)


async def remember_entries(
    session: AsyncSession, keys: Sequence[tuple[date, int]]
) -> set[tuple[date, int]]:
    """Insert the entries' natural keys; returns those not seen before."""
    if not keys:
        return set()
    if is_postgres(session):
        result = await session.execute(
            _PG_REMEMBER, {"days": [k[0] for k in keys], "keys": [k[1] for k in keys]}
        )
        return {(row.day, row.key) for row in result}
    fresh: set[tuple[date, int]] = set()
    t = access_entry_keys
    for part in chunks(keys):
        stmt = (
            sqlite_insert(t)
            .values([{"day": d, "key": k} for d, k in part])
            .on_conflict_do_nothing()
            .returning(t.c.day, t.c.key)
        )
        fresh.update((row.day, row.key) for row in await session.execute(stmt))
    return fresh


@dataclass(frozen=True)
class SightingRow:
    subject_hash: str
    property_id: str
    day: date
    kind: SubjectKind
    entries: int
    first_seen: datetime
    last_seen: datetime


async def add_sightings(session: AsyncSession, rows: Sequence[SightingRow]) -> None:
    """Add a batch's counts to the sightings: one upsert; ``rows`` has unique keys.

    Rows are sorted by key, so concurrent batches (partitions, HTTP) lock shared rows in
    the same order and cannot deadlock.
    """
    if not rows:
        return
    rows = sorted(rows, key=lambda r: (r.subject_hash, r.property_id, r.day))
    if is_postgres(session):
        await session.execute(
            _PG_ADD_SIGHTINGS,
            {
                "subjects": [r.subject_hash for r in rows],
                "properties": [r.property_id for r in rows],
                "days": [r.day for r in rows],
                "kinds": [r.kind.value for r in rows],
                "entries": [r.entries for r in rows],
                "firsts": [r.first_seen for r in rows],
                "lasts": [r.last_seen for r in rows],
            },
        )
        return
    t = access_sightings
    for part in chunks(rows):
        stmt = sqlite_insert(t).values(
            [
                {
                    "subject_hash": r.subject_hash,
                    "property_id": r.property_id,
                    "day": r.day,
                    "subject_kind": r.kind.value,
                    "entries": r.entries,
                    "first_seen": r.first_seen,
                    "last_seen": r.last_seen,
                }
                for r in part
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["subject_hash", "property_id", "day"],
                set_={
                    "entries": t.c.entries + stmt.excluded.entries,
                    "first_seen": func.min(t.c.first_seen, stmt.excluded.first_seen),
                    "last_seen": func.max(t.c.last_seen, stmt.excluded.last_seen),
                },
            )
        )


async def purge_some(
    session: AsyncSession, *, keys_before: date, sightings_before: date, limit: int
) -> int:
    """Delete up to ``limit`` entry keys no entry can match any more, and up to ``limit``
    sightings past their retention; returns how many rows went.

    Bounded, so that each call is a short transaction however much has piled up (a city's
    day of entry keys is tens of millions of rows; partitioning the table by day would
    turn this into dropping a partition).
    """
    k, s = access_entry_keys, access_sightings
    old_keys = select(k.c.day, k.c.key).where(k.c.day < keys_before).limit(limit)
    old_sightings = (
        select(s.c.subject_hash, s.c.property_id, s.c.day)
        .where(s.c.day < sightings_before)
        .limit(limit)
    )
    deleted = await session.execute(delete(k).where(tuple_(k.c.day, k.c.key).in_(old_keys)))
    deleted_sightings = await session.execute(
        delete(s).where(tuple_(s.c.subject_hash, s.c.property_id, s.c.day).in_(old_sightings))
    )
    return int(deleted.rowcount) + int(deleted_sightings.rowcount)  # type: ignore[attr-defined]


# -- lead candidates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unexplained:
    """A (person, property) pair with no active residence and no open lead."""

    subject_hash: str
    property_id: str
    grid_id: str
    person_ref: str | None
    last_closed_at: datetime | None


def _no_open_lead(subject_hash: Any, property_id: Any) -> Any:
    return ~exists().where(
        leads.c.subject_hash == subject_hash,
        leads.c.property_id == property_id,
        leads.c.status == OPEN,
    )


def _no_active_residence(person_ref: Any, property_id: Any) -> Any:
    return ~exists().where(
        residences.c.person_ref == person_ref,
        residences.c.property_id == property_id,
        residences.c.ended_on.is_(None),
    )


def _last_closed(subject_hash: Any, property_id: Any) -> Any:
    return (
        select(func.max(leads.c.closed_at))
        .where(
            leads.c.subject_hash == subject_hash,
            leads.c.property_id == property_id,
            leads.c.status == CLOSED,
        )
        .scalar_subquery()
    )


# The pairs come in as two arrays: one prepared statement whatever the batch's size.
_PG_UNEXPLAINED = text(
    "SELECT t.subject_hash, t.property_id, pr.grid_id, per.person_ref, "
    "(SELECT max(l.closed_at) FROM leads l WHERE l.subject_hash = t.subject_hash "
    "AND l.property_id = t.property_id AND l.status = 'closed') AS last_closed_at "
    "FROM unnest(CAST(:subjects AS text[]), CAST(:properties AS text[])) "
    "AS t(subject_hash, property_id) "
    "JOIN properties pr ON pr.id = t.property_id "
    "LEFT JOIN persons per ON per.id_hash = t.subject_hash "
    "WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.subject_hash = t.subject_hash "
    "AND l.property_id = t.property_id AND l.status = 'open') "
    "AND NOT EXISTS (SELECT 1 FROM residences r WHERE r.person_ref = per.person_ref "
    "AND r.property_id = t.property_id AND r.ended_on IS NULL)"
)

_PG_BY_DAY = text(
    "SELECT s.subject_hash, s.property_id, s.day, s.entries, s.first_seen, s.last_seen "
    "FROM unnest(CAST(:subjects AS text[]), CAST(:properties AS text[])) "
    "AS t(subject_hash, property_id) "
    "JOIN access_sightings s ON s.subject_hash = t.subject_hash "
    "AND s.property_id = t.property_id AND s.day >= :since"
)


async def unexplained_sightings(
    session: AsyncSession, touched: Sequence[tuple[str, str, date]]
) -> list[Unexplained]:
    """Of the (subject, property, day) sightings a batch touched, the pairs that nothing
    explains: a registered property, no active residence of the person there, no open lead.

    Only the touched pairs are looked at (index lookups), never the whole table: most of
    them are residents on record, or already have an open lead, and drop out here.
    """
    if is_postgres(session):
        result = await session.execute(
            _PG_UNEXPLAINED,
            {"subjects": [t[0] for t in touched], "properties": [t[1] for t in touched]},
        )
        return [
            Unexplained(r.subject_hash, r.property_id, r.grid_id, r.person_ref, r.last_closed_at)
            for r in result
        ]
    s, per = access_sightings, persons
    found: list[Unexplained] = []
    for part in chunks(touched):
        query = (
            select(
                s.c.subject_hash,
                s.c.property_id,
                properties.c.grid_id,
                per.c.person_ref,
                _last_closed(s.c.subject_hash, s.c.property_id).label("last_closed_at"),
            )
            .select_from(
                s.join(properties, properties.c.id == s.c.property_id).outerjoin(
                    per, per.c.id_hash == s.c.subject_hash
                )
            )
            .where(
                tuple_(s.c.subject_hash, s.c.property_id, s.c.day).in_(list(part)),
                _no_open_lead(s.c.subject_hash, s.c.property_id),
                _no_active_residence(per.c.person_ref, s.c.property_id),
            )
        )
        found.extend(
            Unexplained(
                row.subject_hash,
                row.property_id,
                row.grid_id,
                row.person_ref,
                as_utc(row.last_closed_at) if row.last_closed_at else None,
            )
            for row in await session.execute(query)
        )
    return found


async def sightings_by_day(
    session: AsyncSession, pairs: Sequence[Pair], since: date
) -> dict[Pair, list[DaySighting]]:
    """Each pair's daily sightings from ``since`` on."""
    s = access_sightings
    out: dict[Pair, list[DaySighting]] = {}
    if is_postgres(session):
        result = await session.execute(
            _PG_BY_DAY,
            {
                "subjects": [p[0] for p in pairs],
                "properties": [p[1] for p in pairs],
                "since": since,
            },
        )
        for r in result:
            out.setdefault((r.subject_hash, r.property_id), []).append(
                DaySighting(r.day, r.entries, r.first_seen, r.last_seen)
            )
        return out
    for part in chunks(pairs):
        rows = await session.execute(
            select(
                s.c.subject_hash,
                s.c.property_id,
                s.c.day,
                s.c.entries,
                s.c.first_seen,
                s.c.last_seen,
            ).where(tuple_(s.c.subject_hash, s.c.property_id).in_(list(part)), s.c.day >= since)
        )
        for r in rows:
            out.setdefault((r.subject_hash, r.property_id), []).append(
                DaySighting(r.day, r.entries, as_utc(r.first_seen), as_utc(r.last_seen))
            )
    return out


async def insert_leads(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Open leads; returns the ids inserted. A pair that already has an open lead (another
    batch or replica got there first) is skipped by the unique partial index.

    One statement compiled once, the rows sent as an executemany (SQLAlchemy batches them
    into multi-row inserts): a multi-row ``values()`` would be compiled anew each time.
    """
    if not rows:
        return set()
    insert_fn = conflict_insert(session)
    stmt = (
        insert_fn(leads)
        .on_conflict_do_nothing(
            index_elements=["subject_hash", "property_id"],
            index_where=text("status = 'open'"),
        )
        .returning(leads.c.id)
    )
    ordered = sorted(rows, key=lambda r: (r["subject_hash"], r["property_id"]))
    return set((await session.scalars(stmt, ordered)).all())


# -- five-elements lists ------------------------------------------------------------------------


async def properties_by_id(session: AsyncSession, ids: Iterable[str]) -> dict[str, str]:
    """property id -> grid id, for the ids that exist."""
    wanted = sorted(set(ids))
    found: dict[str, str] = {}
    for part in chunks(wanted):
        rows = await session.execute(
            select(properties.c.id, properties.c.grid_id).where(properties.c.id.in_(part))
        )
        found.update({r.id: r.grid_id for r in rows})
    return found


async def properties_by_address(
    session: AsyncSession, addresses: Iterable[str]
) -> dict[str, list[tuple[str, str]]]:
    """normalised address -> [(property id, grid id)] of the properties registered there."""
    wanted = sorted(set(addresses))
    t = property_addresses
    found: dict[str, list[tuple[str, str]]] = {}
    for part in chunks(wanted):
        rows = await session.execute(
            select(t.c.address_norm, t.c.property_id, t.c.grid_id).where(t.c.address_norm.in_(part))
        )
        for r in rows:
            found.setdefault(r.address_norm, []).append((r.property_id, r.grid_id))
    return found


async def person_refs(session: AsyncSession, hashes: Iterable[str]) -> dict[str, str]:
    """keyed hash -> person_ref of the persons registration knows."""
    wanted = sorted(set(hashes))
    found: dict[str, str] = {}
    for part in chunks(wanted):
        rows = await session.execute(
            select(persons.c.id_hash, persons.c.person_ref).where(persons.c.id_hash.in_(part))
        )
        found.update({r.id_hash: r.person_ref for r in rows})
    return found


async def active_residence_pairs(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Of (person_ref, property_id) pairs, those with an active residence."""
    found: set[tuple[str, str]] = set()
    r = residences
    for part in chunks(sorted(set(pairs))):
        rows = await session.execute(
            select(r.c.person_ref, r.c.property_id)
            .where(tuple_(r.c.person_ref, r.c.property_id).in_(list(part)), r.c.ended_on.is_(None))
            .distinct()
        )
        found.update((row.person_ref, row.property_id) for row in rows)
    return found


async def open_lead_pairs(session: AsyncSession, pairs: Sequence[Pair]) -> set[Pair]:
    found: set[Pair] = set()
    for part in chunks(sorted(set(pairs))):
        rows = await session.execute(
            select(leads.c.subject_hash, leads.c.property_id).where(
                tuple_(leads.c.subject_hash, leads.c.property_id).in_(list(part)),
                leads.c.status == OPEN,
            )
        )
        found.update((row.subject_hash, row.property_id) for row in rows)
    return found


async def record_list(session: AsyncSession, **values: Any) -> None:
    """Remember an applied five-elements list (its content hash answers a repeat)."""
    await session.execute(five_elements_lists.insert().values(**values))


async def list_by_content(session: AsyncSession, sha256: str) -> Any:
    return (
        await session.execute(
            select(five_elements_lists).where(five_elements_lists.c.content_sha256 == sha256)
        )
    ).first()


# -- leads ---------------------------------------------------------------------------------------


async def lead_for_update(session: AsyncSession, lead_id: str) -> Any:
    """The lead with its property's current grid, locked for the verification."""
    query = (
        select(leads, properties.c.grid_id.label("property_grid_id"))
        .join(properties, properties.c.id == leads.c.property_id)
        .where(leads.c.id == lead_id)
    )
    if is_postgres(session):
        query = query.with_for_update(of=leads)
    return (await session.execute(query)).first()


async def close_lead(session: AsyncSession, lead_id: str, **values: Any) -> bool:
    """Close an open lead; False if it was not open (closed meanwhile)."""
    result = await session.execute(
        update(leads)
        .where(leads.c.id == lead_id, leads.c.status == OPEN)
        .values(status=CLOSED, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult


async def person_by_hash(session: AsyncSession, subject_hash: str) -> Any:
    return (await session.execute(select(persons).where(persons.c.id_hash == subject_hash))).first()


async def open_lead_of_person(session: AsyncSession, person_ref: str, property_id: str) -> Any:
    """The open lead on the person (by their record's identity hash) at the property."""
    query = _OPEN_LEAD_OF_PERSON_PG if is_postgres(session) else _OPEN_LEAD_OF_PERSON
    params = {"person_ref": person_ref, "property_id": property_id}
    return (await session.execute(query, params)).first()


# Runs for every declaration the reconciliation group reads: built once (see SQLAlchemy's
# compiled cache), one round trip.
_OPEN_LEAD_OF_PERSON = (
    select(leads)
    .join(persons, persons.c.id_hash == leads.c.subject_hash)
    .where(
        persons.c.person_ref == bindparam("person_ref"),
        leads.c.property_id == bindparam("property_id"),
        leads.c.status == OPEN,
    )
)
_OPEN_LEAD_OF_PERSON_PG = _OPEN_LEAD_OF_PERSON.with_for_update(of=leads)


async def has_active_residence(session: AsyncSession, person_ref: str, property_id: str) -> bool:
    found = await session.scalar(
        select(residences.c.id)
        .where(
            residences.c.person_ref == person_ref,
            residences.c.property_id == property_id,
            residences.c.ended_on.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def find_leads(
    session: AsyncSession,
    *,
    grids: Sequence[str] | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """Leads of the grids (all grids: ``None``), newest first; with the total count."""
    conditions: list[Any] = []
    if grids is not None:
        conditions.append(leads.c.grid_id.in_(list(grids)))
    if status is not None:
        conditions.append(leads.c.status == status)
    where = and_(*conditions) if conditions else and_(True)
    total = await session.scalar(select(func.count()).select_from(leads).where(where))
    rows = await session.execute(
        select(leads)
        .where(where)
        .order_by(leads.c.opened_at.desc(), leads.c.id)
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), list(rows)


async def lead_by_id(session: AsyncSession, lead_id: str) -> Any:
    return (await session.execute(select(leads).where(leads.c.id == lead_id))).first()


# -- the address projection ---------------------------------------------------------------------


async def upsert_property_address(
    session: AsyncSession, *, property_id: str, grid_id: str, address_norm: str
) -> None:
    insert_fn = conflict_insert(session)
    stmt = insert_fn(property_addresses).values(
        property_id=property_id, grid_id=grid_id, address_norm=address_norm
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["property_id"],
            set_={"grid_id": stmt.excluded.grid_id, "address_norm": stmt.excluded.address_norm},
        )
    )
