"""Leads: opened from sightings or listings, closed by a verification or a declaration.

A lead is one (person, property) pair suspected of an unregistered residence. It is
opened with ``UnregisteredOccupantSuspected`` and closed with ``LeadClosed``; at most
one is open per pair (a unique partial index, whichever batch or replica comes first).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter as PromCounter
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Envelope, Trace
from common.errors import DomainError, Forbidden, NotFound
from common.events import Event
from common.inbox import PoisonMessage
from common.pii import PiiCipher
from common.publisher import Publisher
from registration.adapters import reconciliation_repository as repo
from registration.app.residences import DeclareMoveIn, ResidenceService
from registration.domain.reconciliation import Evidence, LeadPolicy, subject_ref
from registration.events import (
    LeadClosed,
    LeadEvidence,
    LeadOutcome,
    LeadSource,
    ResidenceDeclared,
    UnregisteredOccupantSuspected,
)
from registration.upstream.inspection import VerificationCompleted, VerificationOutcome

log = structlog.get_logger(__name__)

LEADS_OPENED = PromCounter("leads_opened_total", "Leads opened, by source", ["source"])
LEADS_CLOSED = PromCounter("leads_closed_total", "Leads closed, by outcome", ["outcome"])


@dataclass
class Candidate:
    """A (person, property) pair the rule found a lead for, with what it rests on."""

    subject_hash: str
    property_id: str
    grid_id: str
    person_ref: str | None
    id_number_masked: str
    evidence: Evidence
    source: LeadSource
    list_id: str | None = None


class Leads:
    """Opens and closes leads in the caller's transaction, with their events in the outbox."""

    def __init__(
        self,
        *,
        publisher: Publisher,
        clock: Clock,
        cipher: PiiCipher,
        policy: LeadPolicy,
        declarations: ResidenceService,
    ) -> None:
        self.publisher = publisher
        self.clock = clock
        self.cipher = cipher
        self.policy = policy
        self.declarations = declarations

    async def open(self, session: AsyncSession, candidates: list[Candidate], trace: Trace) -> int:
        """Open a lead per candidate (unless one opened meanwhile); returns how many."""
        if not candidates:
            return 0
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        events: dict[str, UnregisteredOccupantSuspected] = {}
        for c in candidates:
            lead_id = str(uuid.uuid4())
            ev = c.evidence
            rows.append(
                {
                    "id": lead_id,
                    "subject_hash": c.subject_hash,
                    "subject_ref": subject_ref(c.subject_hash),
                    "person_ref": c.person_ref,
                    "id_number_masked": c.id_number_masked,
                    "property_id": c.property_id,
                    "grid_id": c.grid_id,
                    "source": c.source.value,
                    "status": repo.OPEN,
                    "outcome": None,
                    "sightings": ev.sightings,
                    "distinct_days": ev.distinct_days,
                    "first_seen": ev.first_seen,
                    "last_seen": ev.last_seen,
                    "window_start": ev.window_start,
                    "window_days": ev.window_days,
                    "list_id": c.list_id,
                    "policy_version": self.policy.version,
                    "opened_at": now,
                    "registration_needed": False,
                }
            )
            events[lead_id] = UnregisteredOccupantSuspected(
                lead_id=lead_id,
                property_id=c.property_id,
                grid_id=c.grid_id,
                subject_ref=subject_ref(c.subject_hash),
                person_ref=c.person_ref,
                id_number_masked=c.id_number_masked,
                evidence=LeadEvidence(
                    source=c.source,
                    sightings=ev.sightings,
                    distinct_days=ev.distinct_days,
                    first_seen=ev.first_seen,
                    last_seen=ev.last_seen,
                    window_start=ev.window_start,
                    window_days=ev.window_days,
                    list_id=c.list_id,
                ),
                policy_version=self.policy.version,
                suspected_at=now,
            )
        inserted = await repo.insert_leads(session, rows)
        await self.publisher.stage(session, [e for i, e in events.items() if i in inserted], trace)
        if inserted:
            LEADS_OPENED.labels(candidates[0].source.value).inc(len(inserted))
        return len(inserted)

    async def on_verification_completed(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        """Close the verified lead; declare the residence when the officer found it and can.

        ``resides_here`` with a room, for a person registration knows, declares the
        residence (channel ``officer``) through the declaration service, in this
        transaction. Otherwise the lead closes with ``registration_needed``: the officer
        declares through the HTTP API, where the identity number is entered.
        """
        assert isinstance(event, VerificationCompleted)
        lead = await repo.lead_for_update(session, event.lead_id)
        if lead is None:
            raise PoisonMessage(f"verification {event.verification_id}: no lead {event.lead_id}")
        if lead.property_id != event.property_id:
            raise PoisonMessage(
                f"verification {event.verification_id}: lead {event.lead_id} is about "
                f"property {lead.property_id}, not {event.property_id}"
            )
        if lead.status != repo.OPEN:
            log.info("lead.already_closed", lead_id=lead.id, verification=event.verification_id)
            return
        trace = Trace.of(envelope)
        residence_id: str | None = None
        registration_needed = False
        person = await repo.person_by_hash(session, lead.subject_hash)
        if event.outcome is VerificationOutcome.RESIDES_HERE:
            if person is None or event.room_no is None:
                registration_needed = True
            elif not await repo.has_active_residence(session, person.person_ref, lead.property_id):
                residence_id = await self._declare_found_resident(
                    session, lead, person, event, trace
                )
                registration_needed = residence_id is None
        await self._close(
            session,
            lead,
            LeadOutcome(event.outcome.value),
            trace,
            closed_by=event.officer_id,
            verification_id=event.verification_id,
            residence_id=residence_id,
            registration_needed=registration_needed,
            person_ref=person.person_ref if person is not None else lead.person_ref,
        )

    async def _declare_found_resident(
        self,
        session: AsyncSession,
        lead: Any,
        person: Any,
        event: VerificationCompleted,
        trace: Trace,
    ) -> str | None:
        """Declare the residence the officer found, as the officer; None if it cannot be."""
        assert event.room_no is not None
        today = self.policy.local_day(self.clock.now())
        moved_in_on = event.moved_in_on or (
            self.policy.local_day(repo.as_utc(lead.first_seen)) if lead.first_seen else today
        )
        officer = Principal(
            sub=event.officer_id, role="officer", grids=frozenset({lead.property_grid_id})
        )
        cmd = DeclareMoveIn(
            property_id=lead.property_id,
            id_number=self.cipher.decrypt(person.id_number_enc),
            name=self.cipher.decrypt(person.name_enc),
            phone=None,
            room_no=event.room_no,
            moved_in_on=min(moved_in_on, today),
        )
        try:
            # The declaration checks everything before it writes anything, so a refusal
            # leaves this transaction as it was (no savepoint needed).
            declared = await self.declarations.declare_move_in(session, cmd, officer, trace)
        except (DomainError, Forbidden, NotFound) as exc:
            log.warning("lead.declaration_refused", lead_id=lead.id, reason=str(exc)[:200])
            return None
        return str(declared["residence_id"])

    async def _close(
        self,
        session: AsyncSession,
        lead: Any,
        outcome: LeadOutcome,
        trace: Trace,
        *,
        closed_by: str,
        verification_id: str | None,
        residence_id: str | None,
        registration_needed: bool,
        person_ref: str | None,
    ) -> None:
        now = self.clock.now()
        if not await repo.close_lead(
            session,
            lead.id,
            outcome=outcome.value,
            closed_at=now,
            closed_by=closed_by,
            verification_id=verification_id,
            residence_id=residence_id,
            registration_needed=registration_needed,
            person_ref=person_ref,
        ):
            return
        LEADS_CLOSED.labels(outcome.value).inc()
        await self.publisher.stage(
            session,
            [
                LeadClosed(
                    lead_id=lead.id,
                    property_id=lead.property_id,
                    grid_id=lead.grid_id,
                    subject_ref=lead.subject_ref,
                    person_ref=person_ref,
                    outcome=outcome,
                    verification_id=verification_id,
                    residence_id=residence_id,
                    registration_needed=registration_needed,
                    closed_at=now,
                )
            ],
            trace,
        )

    async def on_residence_declared(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        """A declaration explains an open lead for the same person and property: close it."""
        assert isinstance(event, ResidenceDeclared)
        lead = await repo.open_lead_of_person(session, event.person_ref, event.property_id)
        if lead is None:
            return
        await self._close(
            session,
            lead,
            LeadOutcome.DECLARED,
            Trace.of(envelope),
            closed_by=f"declaration:{event.channel.value}",
            verification_id=None,
            residence_id=event.residence_id,
            registration_needed=False,
            person_ref=event.person_ref,
        )
