"""Command and event handlers: load, check who may act, call the domain, save, stage events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common import outbox
from common.auth import Principal
from common.clock import Clock
from common.envelope import Envelope
from common.events import Event
from common.pii import PiiCipher, mask_id_number
from registration.adapters import repository
from registration.adapters.tables import grid_month_figures
from registration.domain.errors import DomainError, Forbidden, NotFound
from registration.domain.identity import ResidentId
from registration.domain.model import Property, Room
from registration.domain.policy import DeclarationPolicy
from registration.events import Channel, ResidenceDeclared

OFFICE_ROLES = frozenset({"admin", "officer", "grid_worker"})


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


@dataclass(frozen=True)
class Trace:
    correlation_id: str | None = None
    traceparent: str | None = None


def channel_of(principal: Principal) -> Channel:
    if principal.role == "landlord":
        return Channel.LANDLORD_SELF_DECLARATION
    if principal.role == "person":
        return Channel.PERSON_SELF_DECLARATION
    return Channel.OFFICER


def authorize_property(principal: Principal, *, grid_id: str, landlord_id: str) -> None:
    """Landlords act for their own properties; office staff for their grids."""
    if principal.role == "landlord":
        if principal.party_id != landlord_id:
            raise Forbidden("a landlord acts only for their own properties")
    elif principal.role in OFFICE_ROLES:
        if not principal.covers_grid(grid_id):
            raise Forbidden(f"grid {grid_id} is outside the caller's grids")
    else:
        raise Forbidden(f"role {principal.role} may not act on properties")


class RegistrationService:
    """The service layer; its dependencies are injected so tests can swap them."""

    def __init__(
        self, *, source: str, clock: Clock, cipher: PiiCipher, policy: DeclarationPolicy
    ) -> None:
        self.source = source
        self.clock = clock
        self.cipher = cipher
        self.policy = policy

    async def _publish(self, session: AsyncSession, events: list[Any], trace: Trace) -> None:
        for event in events:
            await outbox.stage(
                session,
                event,
                source=self.source,
                now=self.clock.now(),
                correlation_id=trace.correlation_id,
                traceparent=trace.traceparent,
            )

    async def register_property(
        self, session: AsyncSession, cmd: RegisterProperty, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        authorize_property(principal, grid_id=cmd.grid_id, landlord_id=cmd.landlord_id)
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
        await self._publish(session, prop.events, trace)
        return {"property_id": prop.id, "grid_id": prop.grid_id, "rooms": len(prop.rooms)}

    async def declare_move_in(
        self, session: AsyncSession, cmd: DeclareMoveIn, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        loaded = await repository.load_property_room(session, cmd.property_id, cmd.room_no)
        if loaded is None:
            raise NotFound("property", cmd.property_id)
        prop, occupants = loaded
        authorize_property(principal, grid_id=prop.grid_id, landlord_id=prop.landlord_id)
        now = self.clock.now()
        person = ResidentId.parse(cmd.id_number, today=now.date())
        if not cmd.name.strip():
            raise DomainError("name", "must not be empty")
        if cmd.room_no not in prop.rooms:  # checked before anything is written
            raise DomainError("room_no", f"property {prop.id} has no room {cmd.room_no!r}")
        person_ref = repository.person_ref(self.cipher, person)
        event = prop.declare_move_in(
            residence_id=str(uuid.uuid4()),
            person=person,
            person_ref=person_ref,
            id_number_masked=mask_id_number(person.value),
            room_no=cmd.room_no,
            moved_in_on=cmd.moved_in_on,
            now=now,
            channel=channel_of(principal),
            occupants_now=occupants,
            policy=self.policy,
        )
        await repository.upsert_person(
            session, self.cipher, person, name=cmd.name.strip(), phone=cmd.phone, now=now
        )
        await repository.add_residence(session, event, declared_by=principal.sub)
        await self._publish(session, prop.events, trace)
        return {
            "residence_id": event.residence_id,
            "person_ref": event.person_ref,
            "property_id": prop.id,
            "room_no": event.room_no,
            "on_time": event.on_time,
            "deadline": event.deadline,
            "over_capacity": event.over_capacity,
        }


async def count_declaration(session: AsyncSession, event: Event, _envelope: Envelope) -> None:
    """Projection: the grid's monthly declaration figures (declaration rate and more)."""
    assert isinstance(event, ResidenceDeclared)
    self_declared = int(event.channel is not Channel.OFFICER)
    values = {
        "grid_id": event.grid_id,
        "month": event.declared_at.strftime("%Y-%m"),
        "declarations": 1,
        "self_declared": self_declared,
        "on_time": int(event.on_time),
        "over_capacity": int(event.over_capacity),
    }
    t = grid_month_figures
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(t).values(values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["grid_id", "month"],
            set_={
                "declarations": t.c.declarations + 1,
                "self_declared": t.c.self_declared + self_declared,
                "on_time": t.c.on_time + int(event.on_time),
                "over_capacity": t.c.over_capacity + int(event.over_capacity),
            },
        )
    )
