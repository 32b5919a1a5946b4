"""People: one record per identity number, created by the first declaration, changed with history.

Every path that names a person (a move-in, a hire, a roster line, an inspection finding)
goes through :class:`PersonRecords`, so that a record is created once, with
``PersonRegistered`` and the restricted ``PersonIdentityRecorded``, and every later
change (new contact details in a declaration, or a correction by office staff) is a new
version with its history row and events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.db import ConcurrentWrite
from common.errors import DomainError, Forbidden, NotFound
from common.identity import ResidentId
from common.pii import PiiCipher, mask_id_number
from registration.adapters import persons_repository as repo
from registration.domain.persons import Identity, Person, checked_name, checked_phone
from registration.domain.policy import CHINA_TIME
from registration.events import IdentityRecordChange

MAX_REF_ATTEMPTS = 10


@dataclass(frozen=True)
class CorrectPerson:
    """A correction by office staff; ``None`` leaves a field as it is."""

    person_ref: str
    reason: str
    id_number: str | None = None
    name: str | None = None
    phone: str | None = None
    clear_phone: bool = False


@dataclass(frozen=True)
class Declared:
    """A person as a declaration names them."""

    resident_id: ResidentId
    name: str
    phone: str | None


@dataclass
class Known:
    """What the records hold about some identity numbers (see :meth:`PersonRecords.lookup`)."""

    persons: dict[str, Person]  # identity number -> its record (locked)
    refs: dict[str, str]  # identity number -> its ref: on record, or the one it will get

    def ref(self, resident_id: ResidentId) -> str:
        return self.refs[resident_id.value]


class PersonRecords:
    """Finds, creates and changes person records, with their history and events.

    A declaration first :meth:`lookup`s the people it names (nothing written), runs its
    own rules with their refs, and only then :meth:`record`s them: a refused declaration
    writes nothing.
    """

    def __init__(self, cipher: PiiCipher, *, timezone: tzinfo = CHINA_TIME) -> None:
        self.cipher = cipher
        self.timezone = timezone
        """The office's local time: a birth date is in the future against its date."""

    def today(self, now: datetime) -> date:
        """The office's date at ``now`` (not UTC's: before 08:00 that is yesterday)."""
        return now.astimezone(self.timezone).date()

    async def lookup(self, session: AsyncSession, resident_ids: Sequence[ResidentId]) -> Known:
        """The records of these identity numbers (locked until the transaction ends), and
        the ref of each: on record, or the first free ref derived from the number."""
        values = sorted({r.value for r in resident_ids})
        hashes = {v: repo.id_hash(self.cipher, v) for v in values}
        derived = {v: repo.derived_ref(self.cipher, v) for v in values}
        rows = await repo.lock_known(session, hashes.values(), derived.values())
        by_hash = {r.id_hash: r for r in rows}
        taken = {r.person_ref for r in rows}
        persons: dict[str, Person] = {}
        refs: dict[str, str] = {}
        for value in values:
            row = by_hash.get(hashes[value])
            if row is not None:
                persons[value] = repo.to_person(self.cipher, row)
                refs[value] = row.person_ref
                continue
            ref, attempt = derived[value], 0
            while ref in taken:  # held by a record corrected away from this number
                attempt += 1
                if attempt >= MAX_REF_ATTEMPTS:
                    raise RuntimeError("no free person_ref after several attempts")
                ref = repo.derived_ref(self.cipher, value, attempt)
                taken |= {r.person_ref for r in await repo.lock_known(session, [], [ref])}
            refs[value] = ref
        return Known(persons, refs)

    async def record(
        self,
        session: AsyncSession,
        declared: Sequence[Declared],
        known: Known,
        *,
        recorded_by: str,
        now: datetime,
        correlation_id: str | None,
    ) -> list[Person]:
        """Create the new records and update the known ones with the declared details.

        Returns one person per distinct identity number, in declaration order; their
        ``events`` are for the caller to stage. A later line about the same person wins.
        """
        latest = {d.resident_id.value: d for d in declared}
        created: list[Person] = []
        people: list[Person] = []
        for value, d in latest.items():
            person = known.persons.get(value)
            if person is None:
                person = Person.register(
                    ref=known.refs[value],
                    identity=Identity(d.resident_id, d.name, d.phone),
                    now=now,
                )
                created.append(person)
            people.append(person)
        inserted = await repo.insert_new(session, self.cipher, created, now)
        if len(inserted) != len(created):
            # Another transaction created one of them since the lookup: the command runs
            # again (common.idempotency), and then finds the record.
            raise ConcurrentWrite("a person record was created concurrently")
        versions = [repo.Version(p, IdentityRecordChange.REGISTERED.value, []) for p in created]
        new_refs = {p.ref for p in created}
        changed_people: list[Person] = []
        for person in people:
            if person.ref in new_refs:
                continue
            d = latest[person.identity.resident_id.value]
            changed = person.update_contact(name=d.name, phone=d.phone, now=now)
            if changed:
                changed_people.append(person)
                versions.append(
                    repo.Version(person, IdentityRecordChange.DECLARATION.value, changed)
                )
        await repo.save_versions(session, self.cipher, changed_people, now)
        await repo.add_history(
            session,
            self.cipher,
            versions,
            recorded_by=recorded_by,
            now=now,
            correlation_id=correlation_id,
        )
        return people

    async def authorize_self(
        self, session: AsyncSession, principal: Principal, resident_id: ResidentId
    ) -> None:
        """A person (role ``person``) declares only for themself.

        The token's ``party_id`` is the person's ``person_ref``: the ref on record for
        the declared identity number, or - for a first declaration, before any record
        exists - the ref derived from that number by the keyed hash (the office's identity
        provider, which verified the person's number, derives it with the same key). A
        ref held by a record of another number is refused.
        """
        party = principal.party_id or ""
        hashed = repo.id_hash(self.cipher, resident_id.value)
        holder = await repo.lock_by_ref(session, party) if party else None
        if holder is not None:
            allowed = holder.id_hash == hashed
        else:
            allowed = party == repo.derived_ref(self.cipher, resident_id.value)
        if not allowed:
            raise Forbidden("a person declares only for themself (party_id = their person_ref)")

    async def correct(
        self,
        session: AsyncSession,
        cmd: CorrectPerson,
        principal: Principal,
        *,
        now: datetime,
        correlation_id: str | None,
    ) -> tuple[Person, list[str]]:
        """Office staff correct name, phone or identity number; the ref stays."""
        reason = cmd.reason.strip()
        if not reason:
            raise DomainError("reason", "say why the record is corrected")
        row = await repo.lock_by_ref(session, cmd.person_ref)
        if row is None:
            raise NotFound("person", cmd.person_ref)
        person = repo.to_person(self.cipher, row)
        current = person.identity
        resident_id = current.resident_id
        if cmd.id_number is not None:
            resident_id = ResidentId.parse(cmd.id_number, today=self.today(now))
            if resident_id.value != current.resident_id.value:
                other = await repo.lock_by_hash(
                    session, repo.id_hash(self.cipher, resident_id.value)
                )
                if other is not None:
                    raise DomainError(
                        "id_number",
                        f"is the identity number of another person record ({other.person_ref}); "
                        "records are not merged by a correction",
                    )
        name = checked_name(cmd.name) if cmd.name is not None else current.name
        phone = None if cmd.clear_phone else current.phone
        if cmd.phone is not None:
            phone = checked_phone(cmd.phone)
        changed = person.correct(Identity(resident_id, name, phone), now=now)
        if changed:
            await repo.save_versions(session, self.cipher, [person], now)
            await repo.add_history(
                session,
                self.cipher,
                [repo.Version(person, IdentityRecordChange.CORRECTION.value, changed, reason)],
                recorded_by=principal.sub,
                now=now,
                correlation_id=correlation_id,
            )
        await repo.audit(
            session,
            principal=principal.sub,
            role=principal.role,
            action="correct",
            person_ref=person.ref,
            correlation_id=correlation_id,
            now=now,
        )
        return person, changed

    def public_view(self, person: Person) -> dict[str, Any]:
        """What a response may show of a record without revealing it."""
        rid = person.identity.resident_id
        return {
            "person_ref": person.ref,
            "version": person.version,
            "id_number_masked": mask_id_number(rid.value),
            "gender": rid.gender.value,
            "birth_date": rid.birth_date,
            "origin_region": rid.region_code,
        }
