"""The enforcement loop: a breach becomes a count of a case and the schedule's decision on
it; an order is verified by a follow-up or escalates to a fine when its deadline passes.

Every step stages its events in the same transaction (the outbox), and every decision its
notice (``NoticeIssued``, restricted, for outreach). A breach recorded twice is one count
(``counts`` is unique by breach and its source id), whatever delivered it twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common import timers
from common.clock import Clock
from common.envelope import Trace
from common.errors import DomainError
from common.events import Event
from common.publisher import Publisher
from penalties.adapters import cases_repository as repo
from penalties.adapters import parties_repository as parties
from penalties.adapters import schedules_repository as schedules
from penalties.domain.cases import AFTER, RECTIFIED, Breach, Deadlines, describe, outcome
from penalties.domain.schedule import Rule, Schedule, Step, in_force
from penalties.events import (
    Action,
    BreachRecorded,
    CaseClosed,
    CaseEscalated,
    CaseOpened,
    EscalationReason,
    NoticeIssued,
    Origin,
    PartyKind,
    PenaltyIssued,
    Recipient,
    RectificationOrdered,
    RectificationVerified,
    WarningIssued,
)

log = structlog.get_logger(__name__)

ORDER_DUE = "order-due"
SYSTEM = "system"


@dataclass(frozen=True)
class Decided:
    decision_id: str
    action: Action
    deadline: Any
    amount_yuan: int | None


@dataclass(frozen=True)
class Enforcement:
    publisher: Publisher
    clock: Clock
    deadlines: Deadlines

    # -- breaches -------------------------------------------------------------------------

    async def record(
        self,
        session: AsyncSession,
        breach: Breach,
        *,
        by: str = SYSTEM,
        origin: Origin = Origin.EVENT,
        trace: Trace | None = None,
    ) -> tuple[str, str] | None:
        """Record a breach as a count (opening its case) and decide it by the schedule in
        force on its day. Returns (case id, count id); None if it was recorded already."""
        if await repo.count_of_breach(session, breach.breach, breach.breach_id) is not None:
            return None
        schedule = in_force(await schedules.all_versions(session), breach.occurred_on)
        rule = schedule.rule(breach.breach)
        now = self.clock.now()
        events: list[Event] = []
        subject = breach.subject_id
        if await repo.open_case(
            session,
            case_id=str(uuid.uuid4()),
            grouping_key=breach.grouping_key,
            subject_id=subject,
            party_kind=breach.party_kind.value,
            party_id=breach.party_id,
            property_id=breach.property_id,
            employer_id=breach.employer_id,
            grid_id=breach.grid_id,
            origin=origin.value,
            opened_at=now,
            opened_by=by,
        ):
            case = await repo.lock_case(
                session, grouping_key=breach.grouping_key, subject_id=subject
            )
            events.append(
                CaseOpened(
                    case_id=case.case_id,
                    party_kind=breach.party_kind,
                    party_id=case.party_id,
                    property_id=breach.property_id,
                    employer_id=breach.employer_id,
                    grid_id=breach.grid_id,
                    origin=origin,
                    grouping_key=breach.grouping_key,
                    opened_at=now,
                    opened_by=by,
                )
            )
        else:
            case = await repo.lock_case(
                session, grouping_key=breach.grouping_key, subject_id=subject
            )
            if case.status != "open":
                # The case of this visit (declaration, month) is closed: a breach found
                # later about it is a case of its own.
                return await self.record(
                    session,
                    _regrouped(breach, case.case_id),
                    by=by,
                    origin=origin,
                    trace=trace,
                )
        n = case.counts + 1
        count_id = f"{case.case_id}:{n}"
        repeat = await repo.repeated(
            session,
            subject_id=subject,
            breach=breach.breach,
            on=breach.occurred_on,
            lookback_days=rule.lookback_days,
            case_id=case.case_id,
        )
        facts = dict(breach.facts)
        if breach.correct_by is not None:
            facts["correct_by"] = breach.correct_by.isoformat()
        await repo.add_count(
            session,
            case.case_id,
            n,
            count_id=count_id,
            breach=breach.breach,
            breach_id=breach.breach_id,
            subject_id=subject,
            occurred_on=breach.occurred_on,
            source_type=breach.source_type,
            repeat=repeat,
            facts=facts,
            item=breach.item,
            correct_by=breach.correct_by,
            status="open",
            recorded_at=now,
        )
        events.append(
            BreachRecorded(
                count_id=count_id,
                case_id=case.case_id,
                breach=breach.breach,
                breach_id=breach.breach_id,
                occurred_on=breach.occurred_on,
                source_type=breach.source_type,
                repeat=repeat,
                recorded_at=now,
            )
        )
        await self.publisher.stage(session, events, trace)
        await self.decide(
            session, case.case_id, count_id, schedule, rule, rule.step(repeat=repeat),
            by=by, trace=trace,
        )  # fmt: skip
        log.info("penalties.breach_recorded", case_id=case.case_id, breach=breach.breach)
        return case.case_id, count_id

    # -- decisions ------------------------------------------------------------------------

    async def decide(
        self,
        session: AsyncSession,
        case_id: str,
        count_id: str,
        schedule: Schedule,
        rule: Rule,
        step: Step,
        *,
        by: str,
        amount_yuan: int | None = None,
        grace_working_days: int | None = None,
        reason: str | None = None,
        escalated_from: str | None = None,
        escalation_reason: EscalationReason | None = None,
        trace: Trace | None = None,
    ) -> Decided:
        """Make one decision on a count: its row, the count's status, its events and its
        notice; an order also arms its deadline's timer."""
        case = await repo.case(session, case_id)
        count = await repo.count(session, count_id)
        now = self.clock.now()
        decision_id = str(uuid.uuid4())
        deadline = None
        if step.action is Action.RECTIFICATION_ORDER:
            grace = grace_working_days or step.grace_working_days or 0
            deadline = self.deadlines.deadline(now, grace, count.correct_by)
        if step.action is Action.FINE and amount_yuan is None:
            amount_yuan = step.fine_yuan
        await repo.add_decision(
            session,
            decision_id=decision_id,
            case_id=case_id,
            count_id=count_id,
            action=step.action.value,
            amount_yuan=amount_yuan,
            deadline=deadline,
            policy_version=schedule.version,
            escalated_from=escalated_from,
            escalation_reason=escalation_reason.value if escalation_reason else None,
            reason=reason,
            decided_at=now,
            decided_by=by,
        )
        await repo.set_count_status(session, count_id, AFTER[step.action])
        party_kind = PartyKind(case.party_kind)
        events: list[Event] = []
        if step.action is Action.WARNING:
            events.append(
                WarningIssued(
                    decision_id=decision_id,
                    case_id=case_id,
                    count_id=count_id,
                    breach=count.breach,
                    policy_version=schedule.version,
                    decided_at=now,
                    decided_by=by,
                )
            )
        elif step.action is Action.RECTIFICATION_ORDER:
            assert deadline is not None
            events.append(
                RectificationOrdered(
                    order_id=decision_id,
                    case_id=case_id,
                    count_id=count_id,
                    breach=count.breach,
                    item=count.item,
                    party_kind=party_kind,
                    party_id=case.party_id,
                    property_id=case.property_id,
                    employer_id=case.employer_id,
                    grid_id=case.grid_id,
                    deadline=deadline,
                    policy_version=schedule.version,
                    ordered_at=now,
                    decided_by=by,
                )
            )
            await timers.schedule(
                session,
                kind=ORDER_DUE,
                key=decision_id,
                due_at=self.deadlines.overdue_at(deadline),
                payload={"order_id": decision_id},
            )
        else:
            assert amount_yuan is not None
            events.append(
                PenaltyIssued(
                    decision_id=decision_id,
                    case_id=case_id,
                    count_id=count_id,
                    breach=count.breach,
                    party_kind=party_kind,
                    party_id=case.party_id,
                    grid_id=case.grid_id,
                    amount_yuan=amount_yuan,
                    policy_version=schedule.version,
                    decided_at=now,
                    decided_by=by,
                )
            )
        events.append(
            await self._notice(
                session,
                case,
                count,
                schedule,
                rule,
                step.action,
                decision_id,
                amount_yuan=amount_yuan,
                deadline=deadline,
                now=now,
            )
        )
        await self.publisher.stage(session, events, trace)
        await self.close_if_settled(session, case_id, trace)
        return Decided(decision_id, step.action, deadline, amount_yuan)

    async def _notice(
        self,
        session: AsyncSession,
        case: Any,
        count: Any,
        schedule: Schedule,
        rule: Rule,
        action: Action,
        decision_id: str,
        *,
        amount_yuan: int | None,
        deadline: Any,
        now: datetime,
    ) -> NoticeIssued:
        """The decision's notice, with its recipient as known now (frozen in the row)."""
        recipient = await self._recipient(session, case)
        address = recipient.address
        facts = describe(count.breach, count.occurred_on, count.facts)
        if address:
            facts = f"{facts}, at {address}"
        notice = NoticeIssued(
            notice_id=str(uuid.uuid4()),
            case_id=case.case_id,
            decision_id=decision_id,
            action=action,
            recipient=recipient,
            facts=facts,
            rule=rule.title,
            article=rule.article,
            amount_yuan=amount_yuan,
            deadline=deadline,
            appeal=schedule.appeal,
            policy_version=schedule.version,
            issued_at=now,
        )
        await repo.add_notice(
            session,
            notice_id=notice.notice_id,
            case_id=case.case_id,
            decision_id=decision_id,
            party_id=recipient.party_id,
            document=notice.model_dump(mode="json"),
            issued_at=now,
        )
        return notice

    async def _recipient(self, session: AsyncSession, case: Any) -> Recipient:
        kind = PartyKind(case.party_kind)
        if kind is PartyKind.EMPLOYER:
            employer = await parties.employer_of(session, case.employer_id)
            return Recipient(
                party_kind=kind,
                party_id=case.party_id or (employer.credit_code if employer else None),
                name=employer.name if employer else None,
                address=employer.address if employer else None,
            )
        prop = await parties.property_of(session, case.property_id)
        return Recipient(
            party_kind=kind,
            party_id=case.party_id or (prop.landlord_id if prop else None),
            name=None,
            address=prop.address if prop else None,
        )

    async def close_if_settled(
        self, session: AsyncSession, case_id: str, trace: Trace | None = None
    ) -> None:
        settled = outcome(await repo.statuses(session, case_id))
        if settled is None:
            return
        now = self.clock.now()
        if await repo.close_case(session, case_id, outcome=settled.value, now=now):
            counts = await repo.statuses(session, case_id)
            fined = await repo.fined_yuan(session, case_id)
            await self.publisher.stage(
                session,
                [
                    CaseClosed(
                        case_id=case_id,
                        outcome=settled,
                        counts=len(counts),
                        fined_yuan=fined,
                        closed_at=now,
                    )
                ],
                trace,
            )

    # -- orders ---------------------------------------------------------------------------

    async def on_order_due(self, session: AsyncSession, key: str, payload: dict[str, Any]) -> None:
        """Timer ``order-due``: an order still open after its deadline escalates."""
        order = await repo.lock_decision(session, payload["order_id"])
        if order is None or order.closed_at is not None or order.reversed_by is not None:
            return
        await self._escalate(session, order, EscalationReason.OVERDUE, None)

    async def check(
        self,
        session: AsyncSession,
        order_id: str,
        *,
        rectified: bool,
        visit_id: str | None,
        by: str,
        source: str,
        trace: Trace | None = None,
    ) -> str:
        """A follow-up's verdict on an order: ``verified``, ``escalated``, ``recorded``
        (not fixed, before its deadline: it stays open), or ``closed`` (already settled)."""
        order = await repo.lock_decision(session, order_id)
        if order is None or order.action != Action.RECTIFICATION_ORDER.value:
            raise DomainError("order_id", f"{order_id} is not a rectification order")
        now = self.clock.now()
        if not await repo.add_check(
            session,
            check_id=str(uuid.uuid4()),
            order_id=order_id,
            visit_id=visit_id,
            rectified=rectified,
            checked_at=now,
            checked_by=by,
            source=source,
        ):
            return "repeated"
        if order.closed_at is not None or order.reversed_by is not None:
            return "closed"
        if rectified:
            await repo.update_decision(session, order_id, closed_at=now)
            await repo.set_count_status(session, order.count_id, RECTIFIED)
            await timers.cancel(session, kind=ORDER_DUE, key=order_id, now=now)
            await self.publisher.stage(
                session,
                [
                    RectificationVerified(
                        order_id=order_id,
                        case_id=order.case_id,
                        count_id=order.count_id,
                        visit_id=visit_id,
                        on_time=self.deadlines.on_time(order.deadline, now),
                        verified_at=now,
                        verified_by=by,
                    )
                ],
                trace,
            )
            await self.close_if_settled(session, order.case_id, trace)
            return "verified"
        if self.deadlines.today(now) >= order.deadline:
            await self._escalate(session, order, EscalationReason.FOLLOW_UP_FAILED, trace)
            return "escalated"
        return "recorded"

    async def _escalate(
        self,
        session: AsyncSession,
        order: Any,
        reason: EscalationReason,
        trace: Trace | None,
    ) -> None:
        now = self.clock.now()
        schedule = await self.schedule(session, order.policy_version)
        count = await repo.count(session, order.count_id)
        rule = schedule.rule(count.breach)
        await repo.update_decision(session, order.decision_id, closed_at=now)
        await timers.cancel(session, kind=ORDER_DUE, key=order.decision_id, now=now)
        await self.publisher.stage(
            session,
            [
                CaseEscalated(
                    case_id=order.case_id,
                    count_id=order.count_id,
                    order_id=order.decision_id,
                    reason=reason,
                    to_action=rule.overdue.action,
                    policy_version=schedule.version,
                    escalated_at=now,
                )
            ],
            trace,
        )
        await self.decide(
            session, order.case_id, order.count_id, schedule, rule, rule.overdue, by=SYSTEM,
            escalated_from=order.decision_id, escalation_reason=reason, trace=trace,
        )  # fmt: skip
        log.info("penalties.escalated", case_id=order.case_id, reason=reason.value)

    async def schedule(self, session: AsyncSession, version: str) -> Schedule:
        for schedule in await schedules.all_versions(session):
            if schedule.version == version:
                return schedule
        raise DomainError("policy_version", f"schedule {version} does not exist")


def _regrouped(breach: Breach, closed_case: str) -> Breach:
    return replace(breach, grouping_key=f"{breach.grouping_key}:after:{closed_case}"[:250])
