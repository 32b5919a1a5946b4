"""Places handlers: grids, parties, property managers, and buildings found on sweeps.

Same shape as :mod:`registration.app.residences`: load, check who may act, call the
domain, save, stage the events in the outbox, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Envelope, Trace
from common.errors import DomainError, Forbidden, NotFound
from common.identity import ResidentId
from common.pii import PiiCipher
from common.publisher import Publisher
from registration.adapters import places_repository as repo
from registration.adapters import residences_repository as repository
from registration.app.access import authorize_grid, authorize_party, authorize_property
from registration.app.persons import Declared, Known, PersonRecords
from registration.domain.persons import checked_name, checked_phone
from registration.domain.places import (
    DiscoveryStatus,
    Grid,
    ManagerKind,
    Party,
    PartyKind,
    normalise_address,
)
from registration.domain.policy import CHINA_TIME
from registration.domain.residences import Property, Room
from registration.events import Channel, PropertyRegistered
from registration.upstream.inspection import PropertyDiscovered

log = structlog.get_logger(__name__)

INSPECTION_SWEEP = "inspection_sweep"
"""``properties.channel`` of a building registered from a sweep (the event says officer)."""


@dataclass(frozen=True)
class RegisterGrid:
    grid_id: str
    name: str
    community: str
    grid_worker: str | None


@dataclass(frozen=True)
class RegisterParty:
    """A person by ``person_ref`` (on record already) or by identity number, name and phone
    (their record is created, or updated, as a declaration would); an organisation by
    credit code and name."""

    kind: PartyKind
    person_ref: str | None
    credit_code: str | None
    name: str | None
    id_number: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class AssignManager:
    property_id: str
    party_id: str
    kind: ManagerKind


def discovered_property(
    event: PropertyDiscovered, *, property_id: str, landlord_id: str, now: Any
) -> Property:
    """The property a discovery describes, under the usual property rules (DomainError)."""
    prop = Property.register(
        property_id=property_id,
        address=normalise_address(event.address),
        grid_id=event.grid_id,
        landlord_id=landlord_id,
        rooms=[Room(r.room_no, r.capacity_estimate) for r in event.rooms],
        channel=Channel.OFFICER,
        now=now,
    )
    prop.events = [
        e.model_copy(update={"discovery_id": event.discovery_id, "sweep_id": event.sweep_id})
        if isinstance(e, PropertyRegistered)
        else e
        for e in prop.events
    ]
    return prop


class PlacesService:
    def __init__(
        self,
        *,
        publisher: Publisher,
        clock: Clock,
        cipher: PiiCipher,
        timezone: tzinfo = CHINA_TIME,
    ) -> None:
        self.publisher = publisher
        self.clock = clock
        self.cipher = cipher
        self.persons = PersonRecords(cipher, timezone=timezone)

    # -- grids ----------------------------------------------------------------------------
    async def register_grid(
        self, session: AsyncSession, cmd: RegisterGrid, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        if principal.role != "admin":
            raise Forbidden("only an administrator registers grids")
        now = self.clock.now()
        grid = Grid.register(
            grid_id=cmd.grid_id,
            name=cmd.name,
            community=cmd.community,
            grid_worker=cmd.grid_worker,
            now=now,
        )
        if await repo.load_grid(session, grid.id) is not None:
            raise DomainError("grid_id", f"grid {grid.id} is already registered")
        await repo.add_grid(session, grid, registered_by=principal.sub, now=now)
        await self.publisher.stage(session, grid.events, trace)
        return {
            "grid_id": grid.id,
            "name": grid.name,
            "community": grid.community,
            "grid_worker": grid.grid_worker,
            "registered_at": now,
        }

    # -- parties --------------------------------------------------------------------------
    async def register_party(
        self, session: AsyncSession, cmd: RegisterParty, principal: Principal, trace: Trace
    ) -> tuple[int, dict[str, Any]]:
        """201 with a new party; 200 with the existing one if it is registered already.

        A person given by identity number (a villager letting their own house, say) is
        found, or recorded, like a person a declaration names; the party is their
        ``person_ref``. The person themself registers with a landlord token whose
        ``party_id`` is that ref (see :meth:`PersonRecords.authorize_self`).
        """
        now = self.clock.now()
        declared: Declared | None = None
        known: Known | None = None
        if cmd.kind is PartyKind.PERSON and cmd.id_number is not None:
            declared = Declared(
                ResidentId.parse(cmd.id_number, today=self.persons.today(now)),
                checked_name(cmd.name or ""),
                checked_phone(cmd.phone),
            )
            known = await self.persons.lookup(session, [declared.resident_id])
            party = Party.person(known.ref(declared.resident_id))
        elif cmd.kind is PartyKind.PERSON:
            party = Party.person(cmd.person_ref or "")
        else:
            party = Party.organisation(cmd.credit_code or "", cmd.name)
        authorize_party(principal, party.id)
        existing = await repo.load_party(session, party.id)
        # Only a person not on record is recorded here: an existing person's name and
        # phone change through PATCH /persons (pii:write, within the grid), never as a
        # side effect of registering them as a party.
        if (
            declared is not None
            and known is not None
            and declared.resident_id.value not in known.persons
        ):
            (person,) = await self.persons.record(
                session,
                [declared],
                known,
                recorded_by=principal.sub,
                now=now,
                correlation_id=trace.correlation_id,
            )
            await self.publisher.stage(session, person.events, trace)
        if existing is not None:
            return 200, party_view(existing) | {"created": False}
        if (
            declared is None
            and party.person_ref is not None
            and not await repo.person_exists(session, party.person_ref)
        ):
            raise DomainError("person_ref", "no person is registered with this reference")
        await repo.add_party(session, party, registered_by=principal.sub, now=now)
        return 201, party_view(party) | {"created": True}

    # -- property managers ----------------------------------------------------------------
    async def _managed_property(self, session: AsyncSession, property_id: str) -> Any:
        prop = await repo.load_property(session, property_id, for_update=True)
        if prop is None:
            raise NotFound("property", property_id)
        return prop

    async def assign_manager(
        self, session: AsyncSession, cmd: AssignManager, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """The landlord (or the grid's staff) mandates a party to manage the property."""
        prop = await self._managed_property(session, cmd.property_id)
        authorize_property(principal, grid_id=prop.grid_id, landlord_id=prop.landlord_id)
        party = await repo.load_party(session, cmd.party_id)
        if party is None:
            raise DomainError("party_id", "no such party: register it first (POST /parties)")
        managers = await repo.load_managers(session, prop)
        now = self.clock.now()
        event = managers.assign(party, cmd.kind, now=now)
        await repo.add_manager(
            session,
            property_id=prop.id,
            party_id=party.id,
            kind=cmd.kind,
            assigned_by=principal.sub,
            now=now,
        )
        await self.publisher.stage(session, managers.events, trace)
        return {
            "property_id": prop.id,
            "party_id": party.id,
            "party_kind": party.kind.value,
            "kind": cmd.kind.value,
            "assigned_at": event.assigned_at,
        }

    async def remove_manager(
        self,
        session: AsyncSession,
        property_id: str,
        party_id: str,
        principal: Principal,
        trace: Trace,
    ) -> dict[str, Any]:
        """The landlord, the grid's staff, or the manager itself ends the mandate."""
        prop = await self._managed_property(session, property_id)
        if not (principal.role == "landlord" and principal.party_id == party_id):
            authorize_property(principal, grid_id=prop.grid_id, landlord_id=prop.landlord_id)
        managers = await repo.load_managers(session, prop)
        if party_id not in managers.active:
            raise NotFound("manager", party_id)
        now = self.clock.now()
        event = managers.remove(party_id, now=now)
        await repo.end_manager(
            session, property_id=prop.id, party_id=party_id, removed_by=principal.sub, now=now
        )
        await self.publisher.stage(session, managers.events, trace)
        return {"property_id": prop.id, "party_id": party_id, "removed_at": event.removed_at}

    # -- buildings found on inspection sweeps ---------------------------------------------
    async def on_property_discovered(
        self, session: AsyncSession, event: PropertyDiscovered, envelope: Envelope
    ) -> None:
        """Inbox handler of ``inspection.PropertyDiscovered``: register, match or park it.

        * at an address already registered in the grid: linked to that property;
        * with a landlord: registered at once (channel ``inspection_sweep``), and
          ``PropertyRegistered`` published with channel officer and the sweep's ids;
        * without one: parked as pending until the grid's staff name the landlord
          (a property always has a responsible party: 誰出租、誰負責);
        * breaking a property rule (no rooms, say): kept as rejected with the reason.
        """
        if await repo.load_discovery(session, event.discovery_id) is not None:
            log.info("places.discovery_repeated", discovery_id=event.discovery_id)
            return  # the same building sent again under a new ce_id
        now = self.clock.now()
        trace = Trace.of(envelope)
        status, property_id, reason = await self._settle(
            session, event, now=now, registered_by=event.officer, trace=trace
        )
        await repo.add_discovery(
            session,
            {
                "discovery_id": event.discovery_id,
                "sweep_id": event.sweep_id,
                "grid_id": event.grid_id,
                "address": event.address,
                "rooms": [r.model_dump() for r in event.rooms],
                "landlord_hint": event.landlord_hint,
                "discovered_at": event.discovered_at,
                "officer": event.officer,
                "status": status.value,
                "property_id": property_id,
                "reason": reason,
                "received_at": now,
            },
        )
        log.info(
            "places.property_discovered",
            discovery_id=event.discovery_id,
            status=status.value,
            property_id=property_id,
        )

    async def _settle(
        self,
        session: AsyncSession,
        event: PropertyDiscovered,
        *,
        now: Any,
        registered_by: str,
        trace: Trace,
    ) -> tuple[DiscoveryStatus, str | None, str | None]:
        try:
            prop = discovered_property(
                event,
                property_id=str(uuid.uuid4()),
                landlord_id=event.landlord_hint or "",
                now=now,
            )
        except DomainError as exc:
            return DiscoveryStatus.REJECTED, None, f"{exc.field}: {exc.message}"
        matched = await repo.property_at(session, prop.grid_id, prop.address)
        if matched is not None:
            return DiscoveryStatus.MATCHED_EXISTING, matched, None
        if not event.landlord_hint:
            return DiscoveryStatus.PENDING_CONFIRMATION, None, None
        await self._register(session, prop, registered_by=registered_by, trace=trace)
        return DiscoveryStatus.REGISTERED, prop.id, None

    async def _register(
        self, session: AsyncSession, prop: Property, *, registered_by: str, trace: Trace
    ) -> None:
        await repository.add_property(
            session,
            prop,
            channel=INSPECTION_SWEEP,
            registered_by=registered_by,
            now=self.clock.now(),
        )
        await self.publisher.stage(session, prop.events, trace)

    async def confirm_discovery(
        self,
        session: AsyncSession,
        discovery_id: str,
        landlord_id: str,
        principal: Principal,
        trace: Trace,
    ) -> dict[str, Any]:
        """The grid's staff name the landlord of a pending discovery: it is registered."""
        row = await repo.load_discovery(session, discovery_id, for_update=True)
        if row is None:
            raise NotFound("discovery", discovery_id)
        authorize_grid(principal, row.grid_id)
        if row.status != DiscoveryStatus.PENDING_CONFIRMATION.value:
            raise DomainError("discovery_id", f"is {row.status}, not pending confirmation")
        if not landlord_id.strip():
            raise DomainError("landlord_id", "must not be empty")
        if await repo.load_party(session, landlord_id.strip()) is None:
            raise DomainError("landlord_id", "is not a registered party (POST /parties)")
        event = PropertyDiscovered.model_validate(
            {
                "discovery_id": row.discovery_id,
                "sweep_id": row.sweep_id,
                "grid_id": row.grid_id,
                "address": row.address,
                "rooms": row.rooms,
                "landlord_hint": landlord_id.strip(),
                "discovered_at": row.discovered_at,
                "officer": row.officer,
            }
        )
        now = self.clock.now()
        status, property_id, reason = await self._settle(
            session, event, now=now, registered_by=principal.sub, trace=trace
        )
        await repo.settle_discovery(
            session,
            discovery_id,
            status=status.value,
            property_id=property_id,
            reason=reason,
            landlord_hint=landlord_id.strip(),
            confirmed_by=principal.sub,
            confirmed_at=now,
        )
        return {"discovery_id": discovery_id, "status": status.value, "property_id": property_id}


def party_view(party: Party) -> dict[str, Any]:
    return {
        "party_id": party.id,
        "kind": party.kind.value,
        "person_ref": party.person_ref,
        "credit_code": party.credit_code,
        "name": party.name,
    }
