"""Verification tasks: opened by registration's leads, verified by the grid's officer,
escalated when late (a durable timer), closed when registration closes the lead first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common import timers
from common.auth import Principal
from common.clock import Clock
from common.envelope import Envelope, Trace
from common.errors import DomainError, NotFound
from common.events import Event
from common.publisher import Publisher
from inspection.adapters import registry_repository
from inspection.adapters import verification_repository as repo
from inspection.app.access import OFFICE_ROLES, authorize_grid
from inspection.domain.verification import DONE, OPEN, VerificationPolicy, check_open
from inspection.events import VerificationCompleted, VerificationOutcome, VerificationOverdue
from inspection.upstream.registration import LeadClosed, UnregisteredOccupantSuspected

log = structlog.get_logger(__name__)

DUE_TIMER = "verification-due"


@dataclass(frozen=True)
class Verify:
    lead_id: str
    outcome: VerificationOutcome
    room_no: str | None
    moved_in_on: date | None


@dataclass(frozen=True)
class Verifications:
    publisher: Publisher
    clock: Clock
    policy: VerificationPolicy

    async def on_lead(self, session: AsyncSession, event: Event, _: Envelope) -> None:
        """A lead from registration: the registry counts it, and it becomes a task."""
        assert isinstance(event, UnregisteredOccupantSuspected)
        await registry_repository.open_lead(session, event.lead_id, event.property_id)
        due_on = self.policy.due_on(event.suspected_at)
        created = await repo.open_task(
            session,
            lead_id=event.lead_id,
            property_id=event.property_id,
            grid_id=event.grid_id,
            raised_at=event.suspected_at,
            due_on=due_on,
            policy_version=self.policy.version,
        )
        if created:
            await timers.schedule(
                session,
                kind=DUE_TIMER,
                key=event.lead_id,
                due_at=self.policy.overdue_at(due_on),
                payload={"lead_id": event.lead_id},
            )

    async def on_lead_closed(self, session: AsyncSession, event: Event, _: Envelope) -> None:
        """Registration closed the lead (declared since, or this service's verification)."""
        assert isinstance(event, LeadClosed)
        await registry_repository.close_lead(session, event.lead_id, event.property_id)
        if await repo.close(session, event.lead_id):
            await timers.cancel(session, kind=DUE_TIMER, key=event.lead_id, now=self.clock.now())

    async def on_due(self, session: AsyncSession, key: str, payload: dict[str, Any]) -> None:
        """Timer ``verification-due``: a task still open is escalated."""
        task = await repo.lock(session, payload["lead_id"])
        if task is None or task.status != OPEN:
            return
        now = self.clock.now()
        await repo.update_task(session, task.lead_id, escalated_at=now)
        await self.publisher.stage(
            session,
            [
                VerificationOverdue(
                    lead_id=task.lead_id,
                    property_id=task.property_id,
                    grid_id=task.grid_id,
                    due_on=task.due_on,
                    escalated_at=now,
                    policy_version=task.policy_version,
                )
            ],
            None,
        )
        log.info("verification.overdue", lead_id=task.lead_id, grid_id=task.grid_id)

    async def verify(
        self, session: AsyncSession, cmd: Verify, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        task = await repo.lock(session, cmd.lead_id)
        if task is None:
            raise NotFound("verification task", cmd.lead_id)
        authorize_grid(principal, task.grid_id)
        check_open(task.status, cmd.lead_id)
        resides = cmd.outcome is VerificationOutcome.RESIDES_HERE
        if not resides and (cmd.room_no is not None or cmd.moved_in_on is not None):
            raise DomainError("room_no", "room_no and moved_in_on are only for resides_here")
        now = self.clock.now()
        verification_id = str(uuid.uuid4())
        on_time = self.policy.on_time(task.due_on, now)
        await repo.update_task(
            session,
            task.lead_id,
            status=DONE,
            verification_id=verification_id,
            outcome=cmd.outcome.value,
            verified_by=principal.sub,
            verified_at=now,
            on_time=on_time,
        )
        await timers.cancel(session, kind=DUE_TIMER, key=task.lead_id, now=now)
        await self.publisher.stage(
            session,
            [
                VerificationCompleted(
                    verification_id=verification_id,
                    lead_id=task.lead_id,
                    property_id=task.property_id,
                    outcome=cmd.outcome,
                    verified_at=now,
                    officer_id=principal.sub,
                    room_no=cmd.room_no,
                    moved_in_on=cmd.moved_in_on,
                )
            ],
            trace,
        )
        return {"lead_id": task.lead_id, "verification_id": verification_id, "on_time": on_time}

    async def listing(
        self, session: AsyncSession, principal: Principal, *, grid_id: str | None, status: str
    ) -> dict[str, Any]:
        """Tasks of the caller's grids (or one of them): open, overdue or done."""
        if grid_id is not None:
            authorize_grid(principal, grid_id)
            grids: list[str] | None = [grid_id]
        elif principal.role == "admin":
            grids = None
        elif principal.role in OFFICE_ROLES:
            grids = list(principal.grids)
        else:
            grids = []
        today = self.clock.now().astimezone(self.policy.timezone).date()
        rows = await repo.tasks_of(
            session,
            grids,
            status=None if status == "overdue" else status,
            overdue_on=today if status == "overdue" else None,
        )
        return {
            "status": status,
            "as_of": today,
            "tasks": [
                {
                    "lead_id": r.lead_id,
                    "property_id": r.property_id,
                    "grid_id": r.grid_id,
                    "raised_at": r.raised_at,
                    "due_on": r.due_on,
                    "status": r.status,
                    "escalated_at": r.escalated_at,
                    "outcome": r.outcome,
                    "verified_at": r.verified_at,
                    "on_time": r.on_time,
                }
                for r in rows
            ],
        }
