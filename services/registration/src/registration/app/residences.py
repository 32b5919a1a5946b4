"""Command and event handlers: load, check who may act, call the domain, save, stage events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.db import ConcurrentWrite
from common.envelope import Envelope, Trace
from common.errors import DomainError, Forbidden, NotFound
from common.events import Event
from common.identity import ResidentId
from common.inbox import PoisonMessage
from common.pii import PiiCipher, mask_id_number
from common.publisher import Publisher
from registration.adapters import residences_repository as repository
from registration.app.access import authorize_property, authorize_property_access
from registration.app.persons import CorrectPerson, Declared, PersonRecords
from registration.app.place_checks import require_grid
from registration.domain.persons import checked_name, checked_phone
from registration.domain.policy import DeclarationPolicy
from registration.domain.residences import Property, Room
from registration.events import (
    Channel,
    FindingOutcome,
    OccupantFindingSettled,
    ResidenceEnded,
    ResidenceEndReason,
)
from registration.upstream.inspection import OccupantFound

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RegisterProperty:
    address: str
    grid_id: str
    landlord_id: str
    rooms: list[Room]


@dataclass(frozen=True)
class DeclareMoveIn:
    property_id: str
    id_number: str
    name: str
    phone: str | None
    room_no: str
    moved_in_on: date
    migrated: Migrated | None = None


@dataclass(frozen=True)
class Migrated:
    """A declaration from the office's previous records: when and how it was made."""

    declared_at: datetime
    channel: Channel


def channel_of(principal: Principal) -> Channel:
    if principal.role == "landlord":
        return Channel.LANDLORD_SELF_DECLARATION
    if principal.role == "person":
        return Channel.PERSON_SELF_DECLARATION
    return Channel.OFFICER


@dataclass(frozen=True)
class EndResidence:
    property_id: str
    residence_id: str
    moved_out_on: date
    reason: ResidenceEndReason = ResidenceEndReason.MOVED_OUT


@dataclass(frozen=True)
class Declarant:
    """Who declares, as the records keep it: the channel and the account."""

    channel: Channel
    declared_by: str


class ResidenceService:
    """The service layer; its dependencies are injected so tests can swap them."""

    def __init__(
        self, *, publisher: Publisher, clock: Clock, cipher: PiiCipher, policy: DeclarationPolicy
    ) -> None:
        self.publisher = publisher
        self.clock = clock
        self.cipher = cipher
        self.policy = policy
        self.persons = PersonRecords(cipher, timezone=policy.timezone)

    async def register_property(
        self, session: AsyncSession, cmd: RegisterProperty, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        authorize_property(principal, grid_id=cmd.grid_id, landlord_id=cmd.landlord_id)
        await require_grid(session, cmd.grid_id)
        now = self.clock.now()
        prop = Property.register(
            property_id=str(uuid.uuid4()),
            address=cmd.address,
            grid_id=cmd.grid_id,
            landlord_id=cmd.landlord_id,
            rooms=cmd.rooms,
            channel=channel_of(principal),
            now=now,
        )
        await repository.add_property(
            session,
            prop,
            channel=channel_of(principal).value,
            registered_by=principal.sub,
            now=now,
        )
        await self.publisher.stage(session, prop.events, trace)
        return {"property_id": prop.id, "grid_id": prop.grid_id, "rooms": len(prop.rooms)}

    async def declare_move_in(
        self, session: AsyncSession, cmd: DeclareMoveIn, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """A move-in declared by the landlord, office staff, or the person themself.

        Everything is checked before anything is written, so a refusal leaves the
        caller's transaction as it was.
        """
        loaded = await repository.load_property_room(session, cmd.property_id, cmd.room_no)
        if loaded is None:
            raise NotFound("property", cmd.property_id)
        prop, occupants = loaded
        if principal.role != "person":  # a person may declare where they live, see below
            await authorize_property_access(
                session,
                principal,
                property_id=prop.id,
                grid_id=prop.grid_id,
                landlord_id=prop.landlord_id,
            )
        now = self.clock.now()
        person = Declared(
            ResidentId.parse(cmd.id_number, today=self.policy.local_date(now)),
            checked_name(cmd.name),
            checked_phone(cmd.phone),
        )
        if principal.role == "person":
            await self.persons.authorize_self(session, principal, person.resident_id)
        declarant = Declarant(channel_of(principal), principal.sub)
        declared_at = None
        if cmd.migrated is not None:
            if principal.role != "admin":
                raise Forbidden("only an admin brings over the office's previous records")
            declarant = Declarant(cmd.migrated.channel, principal.sub)
            declared_at = cmd.migrated.declared_at
        return await self._declare(
            session, prop, occupants, person, cmd.room_no, cmd.moved_in_on, declarant, trace,
            declared_at=declared_at,
        )  # fmt: skip

    async def _declare(
        self,
        session: AsyncSession,
        prop: Property,
        occupants: int,
        declared: Declared,
        room_no: str,
        moved_in_on: date,
        declarant: Declarant,
        trace: Trace,
        *,
        finding_id: str | None = None,
        declared_at: datetime | None = None,
    ) -> dict[str, Any]:
        now = self.clock.now()
        if room_no not in prop.rooms:  # checked before anything is written
            raise DomainError("room_no", f"property {prop.id} has no room {room_no!r}")
        rid = declared.resident_id
        known = await self.persons.lookup(session, [rid])
        person_ref = known.ref(rid)
        current = await repository.active_residences(session, person_ref)
        event = prop.declare_move_in(
            residence_id=str(uuid.uuid4()),
            person=rid,
            person_ref=person_ref,
            id_number_masked=mask_id_number(rid.value),
            room_no=room_no,
            moved_in_on=moved_in_on,
            now=now,
            channel=declarant.channel,
            occupants_now=occupants,
            policy=self.policy,
            current=current,
            declared_at=declared_at,
        )
        (person,) = await self.persons.record(
            session,
            [declared],
            known,
            recorded_by=declarant.declared_by,
            now=now,
            correlation_id=trace.correlation_id,
        )
        ended = [e for e in prop.events if isinstance(e, ResidenceEnded)]
        if await repository.end_residences(session, ended, ended_by=declarant.declared_by) != len(
            ended
        ):
            raise ConcurrentWrite("a residence ended concurrently")
        await repository.add_residence(
            session, event, declared_by=declarant.declared_by, finding_id=finding_id
        )
        await self.publisher.stage(session, [*person.events, *prop.events], trace)
        return {
            "residence_id": event.residence_id,
            "person_ref": event.person_ref,
            "property_id": prop.id,
            "room_no": event.room_no,
            "on_time": event.on_time,
            "deadline": event.deadline,
            "over_capacity": event.over_capacity,
            "ended_residences": [e.residence_id for e in ended],
        }

    async def end_residence(
        self, session: AsyncSession, cmd: EndResidence, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """A move-out (or a residence declared in error), declared by the landlord or staff."""
        found = await repository.load_residence(session, cmd.residence_id)
        if found is None or found[0].property_id != cmd.property_id:
            raise NotFound("residence", cmd.residence_id)
        residence, ended_on = found
        loaded = await repository.load_property_room(session, cmd.property_id, residence.room_no)
        assert loaded is not None  # a residence's property exists (foreign key)
        prop, _ = loaded
        await authorize_property_access(
            session,
            principal,
            property_id=prop.id,
            grid_id=prop.grid_id,
            landlord_id=prop.landlord_id,
        )
        if ended_on is not None:
            raise DomainError("residence_id", f"ended already (on {ended_on.isoformat()})")
        event = prop.end_residence(
            residence,
            moved_out_on=cmd.moved_out_on,
            reason=cmd.reason,
            channel=channel_of(principal),
            now=(now := self.clock.now()),
            today=self.policy.local_date(now),
        )
        await repository.end_residences(session, [event], ended_by=principal.sub)
        await self.publisher.stage(session, prop.events, trace)
        return {
            "residence_id": event.residence_id,
            "property_id": event.property_id,
            "person_ref": event.person_ref,
            "room_no": event.room_no,
            "moved_in_on": event.moved_in_on,
            "moved_out_on": event.moved_out_on,
            "reason": event.reason,
        }

    async def correct_person(
        self, session: AsyncSession, cmd: CorrectPerson, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """Office staff correct a person record (new version, history, audit, events)."""
        person, changed = await self.persons.correct(
            session, cmd, principal, now=self.clock.now(), correlation_id=trace.correlation_id
        )
        await self.publisher.stage(session, person.events, trace)
        # No personal data in the response: it is stored with the Idempotency-Key.
        return {**self.persons.public_view(person), "changed_fields": changed}

    async def on_occupant_found(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        """An officer found an occupant on a visit: declare the residence (channel officer).

        A finding that can never be applied (an invalid identity number, an unknown room)
        is dead-lettered at once; an unknown property is retried, then dead-lettered (it
        may be a building a sweep has just discovered and is being registered).
        Finding someone where they are already declared changes nothing but their contact
        details.
        """
        assert isinstance(event, OccupantFound)
        trace = Trace.of(envelope)
        loaded = await repository.load_property_room(session, event.property_id, event.room_no)
        if loaded is None:
            raise NotFound("property", event.property_id)
        prop, occupants = loaded
        try:
            declared = Declared(
                ResidentId.parse(event.id_number, today=self.clock.now().date()),
                checked_name(event.full_name, field="full_name"),
                checked_phone(event.phone),
            )
            known = await self.persons.lookup(session, [declared.resident_id])
            current = await repository.active_residences(session, known.ref(declared.resident_id))
            if any(r.property_id == prop.id and r.room_no == event.room_no for r in current):
                log.info("finding.already_declared", finding_id=event.finding_id)
                (person,) = await self.persons.record(
                    session,
                    [declared],
                    known,
                    recorded_by=f"inspection:{event.officer_id}",
                    now=self.clock.now(),
                    correlation_id=trace.correlation_id,
                )
                settled = self._settled(
                    event, prop, person.ref, declared, FindingOutcome.ALREADY_DECLARED
                )
                await self.publisher.stage(session, [*person.events, settled], trace)
                return
            result = await self._declare(
                session,
                prop,
                occupants,
                declared,
                event.room_no,
                event.moved_in_on or event.found_at.date(),
                Declarant(Channel.OFFICER, f"inspection:{event.officer_id}"),
                trace,
                finding_id=event.finding_id,
            )
            settled = self._settled(
                event,
                prop,
                result["person_ref"],
                declared,
                FindingOutcome.REGISTERED,
                result["residence_id"],
            )
            await self.publisher.stage(session, [settled], trace)
        except DomainError as exc:
            raise PoisonMessage(f"finding {event.finding_id}: {exc.field}: {exc.message}") from exc

    def _settled(
        self,
        event: OccupantFound,
        prop: Property,
        person_ref: str,
        declared: Declared,
        outcome: FindingOutcome,
        residence_id: str | None = None,
    ) -> OccupantFindingSettled:
        return OccupantFindingSettled(
            finding_id=event.finding_id,
            property_id=prop.id,
            grid_id=prop.grid_id,
            landlord_id=prop.landlord_id,
            room_no=event.room_no,
            person_ref=person_ref,
            id_number_masked=mask_id_number(declared.resident_id.value),
            outcome=outcome,
            residence_id=residence_id,
            found_at=event.found_at,
            settled_at=self.clock.now(),
            visit_id=event.visit_id,
        )
