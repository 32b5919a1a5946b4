"""Breaches from other services' events, and the parties they are charged to.

Inbox handlers (``async (session, event, envelope)``): registration's events keep the
parties (each property's landlord, each employer) and bring four breaches; inspection's
bring hazards and the follow-ups' verdicts on orders. A breach the schedule in force has
no rule for is parked in the dead-letter topic (replayable once the office adds one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common.envelope import Envelope, Trace
from common.errors import DomainError
from common.events import Event
from common.inbox import PoisonMessage
from penalties.adapters import cases_repository as repo
from penalties.adapters import parties_repository as parties
from penalties.app.enforcement import Enforcement
from penalties.domain.cases import Breach
from penalties.events import PartyKind
from penalties.upstream.inspection import HazardFound, InspectionCompleted
from penalties.upstream.registration import (
    Channel,
    EmployerRegistered,
    EmployerReturnFiled,
    EmployerReturnMissed,
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
    ResidenceDeclared,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Intake:
    enforcement: Enforcement

    def registration_handlers(self) -> dict[type[Event], Any]:
        return {
            PropertyRegistered: self.on_property,
            EmployerRegistered: self.on_employer,
            ResidenceDeclared: self.on_residence,
            OccupantFindingSettled: self.on_finding,
            EmployerReturnMissed: self.on_return_missed,
            EmployerReturnFiled: self.on_return_filed,
        }

    def inspection_handlers(self) -> dict[type[Event], Any]:
        return {HazardFound: self.on_hazard, InspectionCompleted: self.on_completed}

    async def _record(self, session: AsyncSession, breach: Breach, envelope: Envelope) -> None:
        try:
            await self.enforcement.record(session, breach, trace=Trace.of(envelope))
        except DomainError as exc:
            raise PoisonMessage(f"breach {breach.breach_id}: {exc.field}: {exc.message}") from exc

    def _day(self, envelope_time: Any) -> Any:
        return self.enforcement.deadlines.today(envelope_time)

    # -- registration ---------------------------------------------------------------------

    async def on_property(self, session: AsyncSession, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, PropertyRegistered)
        await parties.add_property(
            session,
            property_id=event.property_id,
            landlord_id=event.landlord_id,
            grid_id=event.grid_id,
            address=event.address,
        )
        if event.discovery_id is None:
            return
        await self._record(
            session,
            Breach(
                breach="unregistered_rental",
                breach_id=event.property_id,
                grouping_key=f"discovery:{event.discovery_id}",
                party_kind=PartyKind.LANDLORD,
                party_id=event.landlord_id,
                property_id=event.property_id,
                employer_id=None,
                grid_id=event.grid_id,
                occurred_on=self._day(event.registered_at),
                source_type=envelope.type,
            ),
            envelope,
        )

    async def on_employer(self, session: AsyncSession, event: Event, _: Envelope) -> None:
        assert isinstance(event, EmployerRegistered)
        await parties.add_employer(
            session,
            employer_id=event.employer_id,
            credit_code=event.credit_code,
            name=event.employer_name,
            grid_id=event.grid_id,
            address=event.address,
        )

    async def on_residence(self, session: AsyncSession, event: Event, envelope: Envelope) -> None:
        """A declaration after its deadline; not one the office made itself (an occupant
        found undeclared is that breach already), nor one of the office's previous records
        brought over (dealt with then, under the office's earlier system)."""
        assert isinstance(event, ResidenceDeclared)
        if event.on_time or event.channel is Channel.OFFICER or event.migrated_at is not None:
            return
        prop = await parties.property_of(session, event.property_id)
        await self._record(
            session,
            Breach(
                breach="late_declaration",
                breach_id=event.residence_id,
                grouping_key=f"declaration:{event.residence_id}",
                party_kind=PartyKind.LANDLORD,
                party_id=prop.landlord_id if prop else None,
                property_id=event.property_id,
                employer_id=None,
                grid_id=event.grid_id,
                occurred_on=event.deadline + timedelta(days=1),
                source_type=envelope.type,
                facts={
                    "room_no": event.room_no,
                    "moved_in_on": event.moved_in_on.isoformat(),
                    "declared_on": self._day(event.declared_at).isoformat(),
                    "deadline": event.deadline.isoformat(),
                },
            ),
            envelope,
        )

    async def on_finding(self, session: AsyncSession, event: Event, envelope: Envelope) -> None:
        """An occupant a visit met whom nobody had declared: the landlord's breach."""
        assert isinstance(event, OccupantFindingSettled)
        if event.outcome is not FindingOutcome.REGISTERED:
            return
        group = f"visit:{event.visit_id}" if event.visit_id else f"finding:{event.finding_id}"
        await self._record(
            session,
            Breach(
                breach="undeclared_occupant",
                breach_id=event.finding_id,
                grouping_key=group,
                party_kind=PartyKind.LANDLORD,
                party_id=event.landlord_id,
                property_id=event.property_id,
                employer_id=None,
                grid_id=event.grid_id,
                occurred_on=self._day(event.found_at),
                source_type=envelope.type,
                facts={"room_no": event.room_no},
            ),
            envelope,
        )

    async def on_return_missed(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        assert isinstance(event, EmployerReturnMissed)
        await self._record(
            session,
            Breach(
                breach="employer_return_missed",
                breach_id=f"{event.employer_id}:{event.month}",
                grouping_key=f"return:{event.employer_id}:{event.month}",
                party_kind=PartyKind.EMPLOYER,
                party_id=event.credit_code,
                property_id=None,
                employer_id=event.employer_id,
                grid_id=event.grid_id,
                occurred_on=self._day(event.due_at),
                source_type=envelope.type,
                facts={"month": event.month},
            ),
            envelope,
        )

    async def on_return_filed(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        """A return filed carries out an open order to file that month's return."""
        assert isinstance(event, EmployerReturnFiled)
        breach_id = f"{event.employer_id}:{event.month}"
        for order in await repo.open_orders_for_breach(
            session, "employer_return_missed", breach_id
        ):
            await self.enforcement.check(
                session, order.decision_id, rectified=True, visit_id=None,
                by="system", source=envelope.type, trace=Trace.of(envelope),
            )  # fmt: skip

    # -- inspection -----------------------------------------------------------------------

    async def on_hazard(self, session: AsyncSession, event: Event, envelope: Envelope) -> None:
        assert isinstance(event, HazardFound)
        prop = await parties.property_of(session, event.property_id)
        await self._record(
            session,
            Breach(
                breach=f"hazard_{event.severity.value}",
                breach_id=event.finding_id,
                grouping_key=f"visit:{event.visit_id}",
                party_kind=PartyKind.LANDLORD,
                party_id=prop.landlord_id if prop else None,
                property_id=event.property_id,
                employer_id=None,
                grid_id=event.grid_id,
                occurred_on=self._day(event.found_at),
                source_type=envelope.type,
                facts={"item": event.item},
                item=event.item,
                correct_by=event.correct_by,
            ),
            envelope,
        )

    async def on_completed(self, session: AsyncSession, event: Event, envelope: Envelope) -> None:
        """A visit that followed up orders: each verdict verifies or refutes its order."""
        assert isinstance(event, InspectionCompleted)
        for result in event.follow_ups:
            try:
                await self.enforcement.check(
                    session, result.order_id, rectified=result.rectified,
                    visit_id=event.visit_id, by=event.officer_id, source=envelope.type,
                    trace=Trace.of(envelope),
                )  # fmt: skip
            except DomainError:
                log.warning("penalties.follow_up_unknown_order", order_id=result.order_id)
