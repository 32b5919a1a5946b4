"""Persons at rest: encrypted records found by keyed hash, and every version kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.identity import ResidentId
from common.pii import PiiCipher
from registration.adapters.persons_tables import person_identity_history, persons, pii_access_log
from registration.domain.persons import Identity, Person

_CHUNK = 500  # identity hashes per IN (...) lookup


def id_hash(cipher: PiiCipher, value: str) -> str:
    return cipher.keyed_hash(value)


def derived_ref(cipher: PiiCipher, value: str, attempt: int = 0) -> str:
    """The ref a new record of identity number ``value`` gets.

    Derived from the keyed hash, so the office's identity provider (which holds the
    pseudonymisation key) can tell a person their ref. ``attempt`` > 0 only when that
    ref is already held by another record - one whose identity number was corrected
    away from ``value``: refs never change, so the new record takes the next one.
    """
    seed = value if attempt == 0 else f"{value}#{attempt}"
    return "P" + cipher.keyed_hash(seed)[:23]


def to_person(cipher: PiiCipher, row: Any) -> Person:
    """A stored record as the domain's :class:`Person` (decrypted)."""
    identity = Identity(
        resident_id=ResidentId.of_validated(cipher.decrypt(row.id_number_enc)),
        name=cipher.decrypt(row.name_enc),
        phone=cipher.decrypt(row.phone_enc) if row.phone_enc else None,
    )
    return Person(ref=row.person_ref, identity=identity, version=row.version)


async def lock_by_hash(session: AsyncSession, hashed: str) -> Any:
    """The record of an identity number, locked until the transaction ends (PostgreSQL)."""
    query = select(persons).where(persons.c.id_hash == hashed).with_for_update()
    return (await session.execute(query)).first()


async def load_by_ref(session: AsyncSession, ref: str) -> Any:
    """A person record by its ref, or None (a read: nothing locked)."""
    return (await session.execute(select(persons).where(persons.c.person_ref == ref))).first()


async def lock_by_ref(session: AsyncSession, ref: str) -> Any:
    query = select(persons).where(persons.c.person_ref == ref).with_for_update()
    return (await session.execute(query)).first()


def _encrypted(cipher: PiiCipher, identity: Identity) -> dict[str, Any]:
    rid = identity.resident_id
    return {
        "id_hash": id_hash(cipher, rid.value),
        "id_number_enc": cipher.encrypt(rid.value),
        "name_enc": cipher.encrypt(identity.name),
        "phone_enc": cipher.encrypt(identity.phone) if identity.phone else None,
        "gender": rid.gender.value,
        "birth_date": rid.birth_date,
        "origin_region": rid.region_code,
    }


async def lock_known(
    session: AsyncSession, hashes: Iterable[str], refs: Iterable[str]
) -> list[Any]:
    """Records with any of the identity hashes, or holding any of the refs; locked.

    One query answers both questions of a declaration: is the person known, and is the
    ref a new record would get free (see :func:`derived_ref`).
    """
    hash_list, ref_list = sorted(set(hashes)), sorted(set(refs))
    found: list[Any] = []
    for i in range(0, max(len(hash_list), len(ref_list)), _CHUNK):
        part_h, part_r = hash_list[i : i + _CHUNK], ref_list[i : i + _CHUNK]
        found += (await session.execute(_LOCK_KNOWN, {"hashes": part_h, "refs": part_r})).all()
    return found


# Hot statements are built once: SQLAlchemy then finds their compiled form without
# walking the statement again for its cache key on every declaration.
_LOCK_KNOWN = (
    select(persons)
    .where(
        or_(
            persons.c.id_hash.in_(bindparam("hashes", expanding=True)),
            persons.c.person_ref.in_(bindparam("refs", expanding=True)),
        )
    )
    .with_for_update()
)
_INSERT_NEW = {
    "postgresql": pg_insert(persons).on_conflict_do_nothing().returning(persons.c.person_ref),
    "sqlite": sqlite_insert(persons).on_conflict_do_nothing().returning(persons.c.person_ref),
}
_INSERT_HISTORY = insert(person_identity_history)


async def insert_new(
    session: AsyncSession, cipher: PiiCipher, people: list[Person], now: datetime
) -> set[str]:
    """Insert new records; returns the refs inserted (a record missing lost a race)."""
    if not people:
        return set()
    rows = [
        {
            "person_ref": p.ref,
            **_encrypted(cipher, p.identity),
            "version": p.version,
            "created_at": now,
            "updated_at": now,
        }
        for p in people
    ]
    result = await session.execute(_INSERT_NEW[session.get_bind().dialect.name], rows)
    return set(result.scalars())


async def save_versions(
    session: AsyncSession, cipher: PiiCipher, people: list[Person], now: datetime
) -> None:
    """Overwrite the current records with the new versions (the history keeps the old)."""
    if not people:
        return
    stmt = (
        update(persons)
        .where(persons.c.person_ref == bindparam("ref"))
        .values(
            id_hash=bindparam("new_id_hash"),
            id_number_enc=bindparam("new_id_number_enc"),
            name_enc=bindparam("new_name_enc"),
            phone_enc=bindparam("new_phone_enc"),
            gender=bindparam("new_gender"),
            birth_date=bindparam("new_birth_date"),
            origin_region=bindparam("new_origin_region"),
            version=bindparam("new_version"),
            updated_at=bindparam("new_updated_at"),
        )
    )
    rows = [
        {
            "ref": p.ref,
            **{f"new_{k}": v for k, v in _encrypted(cipher, p.identity).items()},
            "new_version": p.version,
            "new_updated_at": now,
        }
        for p in people
    ]
    await session.execute(stmt, rows)


@dataclass(frozen=True)
class Version:
    """Who recorded a version of a person record, when and why."""

    person: Person
    change: str
    changed_fields: list[str]
    reason: str | None = None


async def add_history(
    session: AsyncSession,
    cipher: PiiCipher,
    versions: list[Version],
    *,
    recorded_by: str,
    now: datetime,
    correlation_id: str | None,
) -> None:
    if not versions:
        return
    await session.execute(
        _INSERT_HISTORY,
        [
            {
                "person_ref": v.person.ref,
                "version": v.person.version,
                "change": v.change,
                "changed_fields": v.changed_fields,
                "reason_enc": cipher.encrypt(v.reason) if v.reason else None,
                "recorded_by": recorded_by,
                "recorded_at": now,
                "correlation_id": correlation_id,
                **_encrypted(cipher, v.person.identity),
            }
            for v in versions
        ],
    )


async def history(session: AsyncSession, ref: str) -> list[Any]:
    query = (
        select(person_identity_history)
        .where(person_identity_history.c.person_ref == ref)
        .order_by(person_identity_history.c.version)
    )
    return list((await session.execute(query)).all())


async def audit(
    session: AsyncSession,
    *,
    principal: str,
    role: str,
    action: str,
    person_ref: str,
    correlation_id: str | None,
    now: datetime,
) -> None:
    """One row of the personal-data access log (every read, reveal and correction)."""
    await session.execute(
        insert(pii_access_log).values(
            at=now,
            principal=principal,
            role=role,
            action=action,
            person_ref=person_ref,
            correlation_id=correlation_id,
        )
    )
