"""Responsibility agreement handlers and the expiry timer.

The office records agreements (its staff counter-sign them), so only office staff of
the subject's grid sign, renew and revoke. Each active agreement has a durable timer
``agreement-expiry/<agreement_id>`` at the end of its last day; renewing or revoking
cancels it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common import timers as durable_timers
from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import DomainError, NotFound
from common.publisher import Publisher
from registration.adapters import agreements_repository as repo
from registration.adapters import places_repository
from registration.app.access import authorize_grid
from registration.domain.agreements import (
    Agreement,
    AgreementKind,
    AgreementPolicy,
    Subject,
    Terms,
)

log = structlog.get_logger(__name__)

EXPIRY_TIMER = "agreement-expiry"
"""Timer kind; the key is the agreement id, due when the agreement's last day ends."""


@dataclass(frozen=True)
class SignAgreement:
    kind: AgreementKind
    property_id: str | None
    employer_id: str | None
    signatory_party_id: str | None
    terms: Terms


@dataclass(frozen=True)
class RenewAgreement:
    agreement_id: str
    counterpart_office: str | None
    signed_on: date
    valid_from: date
    valid_until: date


class AgreementService:
    def __init__(self, *, publisher: Publisher, clock: Clock, policy: AgreementPolicy) -> None:
        self.publisher = publisher
        self.clock = clock
        self.policy = policy

    async def _arm_expiry(self, session: AsyncSession, agreement: Agreement) -> None:
        await durable_timers.schedule(
            session,
            kind=EXPIRY_TIMER,
            key=agreement.id,
            due_at=self.policy.expires_at(agreement.terms.valid_until),
            payload={"agreement_id": agreement.id},
        )

    async def _subject(
        self, session: AsyncSession, cmd: SignAgreement, principal: Principal
    ) -> Subject:
        """Who signs for what: loads (and locks) the property or employer, checks the caller."""
        signatory = (cmd.signatory_party_id or "").strip() or None
        if cmd.kind is AgreementKind.EMPLOYER:
            employer = await repo.load_employer_row(session, cmd.employer_id or "", for_update=True)
            if employer is None:
                raise DomainError("employer_id", "no such employer")
            authorize_grid(principal, employer.grid_id)
            if signatory not in (None, employer.credit_code):
                raise DomainError(
                    "signatory_party_id", "the employer itself signs (its credit code)"
                )
            return Subject(
                kind=cmd.kind,
                grid_id=employer.grid_id,
                signatory_party_id=employer.credit_code,
                employer_id=employer.id,
            )
        prop = await places_repository.load_property(
            session, cmd.property_id or "", for_update=True
        )
        if prop is None:
            raise DomainError("property_id", "no such property")
        authorize_grid(principal, prop.grid_id)
        if cmd.kind is AgreementKind.LANDLORD:
            signatory = signatory or prop.landlord_id
            managers = await places_repository.load_managers(session, prop)
            if not managers.acts_for(signatory):
                raise DomainError(
                    "signatory_party_id", "is neither the landlord nor a manager of the property"
                )
        else:
            if signatory is None:
                raise DomainError("signatory_party_id", "names the tenant (their person_ref)")
            if not await repo.lives_in(session, signatory, prop.id):
                raise DomainError(
                    "signatory_party_id", f"has no current residence in property {prop.id}"
                )
        return Subject(
            kind=cmd.kind,
            grid_id=prop.grid_id,
            signatory_party_id=signatory,
            property_id=prop.id,
        )

    async def sign(
        self, session: AsyncSession, cmd: SignAgreement, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        subject = await self._subject(session, cmd, principal)
        active = await repo.active_for_subject(session, subject.key)
        if active is not None:
            raise DomainError(
                "employer_id" if cmd.kind is AgreementKind.EMPLOYER else "property_id",
                f"has an active {cmd.kind} agreement ({active}): renew or revoke it",
            )
        agreement = Agreement.sign(
            agreement_id=str(uuid.uuid4()),
            subject=subject,
            terms=cmd.terms,
            now=self.clock.now(),
            policy=self.policy,
        )
        await repo.add_agreement(session, agreement, recorded_by=principal.sub)
        await self._arm_expiry(session, agreement)
        await self.publisher.stage(session, agreement.events, trace)
        return self.view(agreement)

    async def _load(
        self, session: AsyncSession, agreement_id: str, principal: Principal
    ) -> Agreement:
        agreement = await repo.load_agreement(session, agreement_id, for_update=True)
        if agreement is None:
            raise NotFound("agreement", agreement_id)
        authorize_grid(principal, agreement.subject.grid_id)
        return agreement

    async def renew(
        self, session: AsyncSession, cmd: RenewAgreement, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        previous = await self._load(session, cmd.agreement_id, principal)
        active = await repo.active_for_subject(session, previous.subject.key)
        if active not in (None, previous.id):
            raise DomainError("agreement_id", f"agreement {active} is the subject's current one")
        now = self.clock.now()
        terms = Terms(
            cmd.counterpart_office or previous.terms.counterpart_office,
            cmd.signed_on,
            cmd.valid_from,
            cmd.valid_until,
        )
        renewal = previous.renew(
            agreement_id=str(uuid.uuid4()), terms=terms, now=now, policy=self.policy
        )
        # The previous one leaves the active state before the renewal enters it (the
        # partial unique index allows one active agreement per subject).
        await repo.save_status(session, previous, now=now)
        await durable_timers.cancel(session, kind=EXPIRY_TIMER, key=previous.id, now=now)
        await repo.add_agreement(session, renewal, recorded_by=principal.sub)
        await self._arm_expiry(session, renewal)
        await self.publisher.stage(session, renewal.events, trace)
        return self.view(renewal) | {"previous_status": previous.status.value}

    async def revoke(
        self,
        session: AsyncSession,
        agreement_id: str,
        reason: str,
        principal: Principal,
        trace: Trace,
    ) -> dict[str, Any]:
        agreement = await self._load(session, agreement_id, principal)
        if not reason.strip():
            raise DomainError("reason", "must not be empty")
        now = self.clock.now()
        agreement.revoke(now=now)
        await repo.save_status(session, agreement, now=now, revoked_reason=reason.strip())
        await durable_timers.cancel(session, kind=EXPIRY_TIMER, key=agreement.id, now=now)
        await self.publisher.stage(session, agreement.events, trace)
        return self.view(agreement) | {"revoked_at": now}

    async def on_expiry_due(self, session: AsyncSession, key: str, payload: dict[str, Any]) -> None:
        """Timer ``agreement-expiry``: the agreement's last day is over; it lapses."""
        agreement = await repo.load_agreement(session, payload["agreement_id"], for_update=True)
        if agreement is None:
            log.warning("agreements.expiry_timer_orphan", timer_key=key)
            return
        now = self.clock.now()
        if agreement.expire(now=now, policy=self.policy) is None:
            log.info(
                "agreements.expiry_skipped", agreement_id=agreement.id, status=agreement.status
            )
            return
        await repo.save_status(session, agreement, now=now)
        await self.publisher.stage(session, agreement.events, None)
        log.info("agreements.expired", agreement_id=agreement.id, kind=agreement.kind.value)

    def view(self, agreement: Agreement) -> dict[str, Any]:
        s, t = agreement.subject, agreement.terms
        return {
            "agreement_id": agreement.id,
            "kind": s.kind.value,
            "status": agreement.status.value,
            "in_force": agreement.in_force(self.policy.local_date(self.clock.now())),
            "signatory_party_id": s.signatory_party_id,
            "counterpart_office": t.counterpart_office,
            "property_id": s.property_id,
            "employer_id": s.employer_id,
            "grid_id": s.grid_id,
            "signed_on": t.signed_on,
            "valid_from": t.valid_from,
            "valid_until": t.valid_until,
            "expires_at": self.policy.expires_at(t.valid_until),
            "supersedes": agreement.supersedes,
            "superseded_by": agreement.superseded_by,
            "recorded_at": agreement.recorded_at,
        }
