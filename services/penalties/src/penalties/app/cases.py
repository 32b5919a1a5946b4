"""What officers and parties do with cases: open one by hand, decide a count, check an
order, appeal and rule on appeals; read a case (audited), list cases and open orders, and
the office's figures. The loop itself is :mod:`penalties.app.enforcement`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common import timers
from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import Conflict, DomainError, Forbidden, NotFound
from common.pii import PiiCipher
from common.publisher import Publisher
from penalties.adapters import cases_repository as repo
from penalties.adapters import parties_repository as parties
from penalties.adapters import schedules_repository as schedules
from penalties.app.access import (
    DECIDERS,
    PARTY_ROLES,
    authorize_decide,
    authorize_read,
    grids_of,
    is_party_of,
)
from penalties.app.enforcement import ORDER_DUE, Enforcement
from penalties.domain.cases import REVERSED, Breach, check_decidable
from penalties.domain.schedule import in_force
from penalties.events import Action, AppealDecided, AppealLodged, Origin, PartyKind


@dataclass(frozen=True)
class OpenCase:
    breach: str
    party_kind: PartyKind
    property_id: str | None
    employer_id: str | None
    occurred_on: date
    note: str | None


@dataclass(frozen=True)
class Decide:
    count_no: int
    action: Action
    amount_yuan: int | None
    grace_working_days: int | None
    reason: str


@dataclass(frozen=True)
class Cases:
    enforcement: Enforcement
    publisher: Publisher
    clock: Clock
    cipher: PiiCipher

    # -- commands -------------------------------------------------------------------------

    async def open(
        self, session: AsyncSession, cmd: OpenCase, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """An officer's case: a breach seen in person, on the subject's record."""
        if principal.role not in DECIDERS:
            raise Forbidden("cases are opened by officers")
        today = self.enforcement.deadlines.today(self.clock.now())
        if cmd.occurred_on > today:
            raise DomainError("occurred_on", f"{cmd.occurred_on} is after today ({today})")
        if cmd.party_kind is PartyKind.LANDLORD:
            if cmd.property_id is None or cmd.employer_id is not None:
                raise DomainError("property_id", "a landlord's case names its property only")
            prop = await parties.property_of(session, cmd.property_id)
            if prop is None:
                raise DomainError("property_id", f"{cmd.property_id} is not a registered property")
            grid_id, party_id = prop.grid_id, prop.landlord_id
        else:
            if cmd.employer_id is None or cmd.property_id is not None:
                raise DomainError("employer_id", "an employer's case names its employer only")
            employer = await parties.employer_of(session, cmd.employer_id)
            if employer is None:
                raise DomainError("employer_id", f"{cmd.employer_id} is not a registered employer")
            grid_id, party_id = employer.grid_id, employer.credit_code
        if not principal.covers_grid(grid_id):
            raise Forbidden(f"grid {grid_id} is outside the caller's grids")
        ref = str(uuid.uuid4())
        recorded = await self.enforcement.record(
            session,
            Breach(
                breach=cmd.breach,
                breach_id=f"officer:{ref}",
                grouping_key=f"officer:{ref}",
                party_kind=cmd.party_kind,
                party_id=party_id,
                property_id=cmd.property_id,
                employer_id=cmd.employer_id,
                grid_id=grid_id,
                occurred_on=cmd.occurred_on,
                source_type="officer",
                facts={"note": cmd.note} if cmd.note else {},
            ),
            by=principal.sub,
            origin=Origin.OFFICER,
            trace=trace,
        )
        assert recorded is not None  # a new reference is never a recorded breach
        case_id, count_id = recorded
        await self._audit(session, principal, "open", case_id, trace)
        return {"case_id": case_id, "count_id": count_id}

    async def decide(
        self, session: AsyncSession, case_id: str, cmd: Decide, principal: Principal,
        trace: Trace,
    ) -> dict[str, Any]:  # fmt: skip
        """An officer's decision on an unsettled count, within what its rule allows."""
        case = await repo.lock_case(session, case_id=case_id)
        if case is None:
            raise NotFound("case", case_id)
        authorize_decide(principal, case)
        count = await repo.count(session, f"{case_id}:{cmd.count_no}")
        if count is None:
            raise DomainError("count_no", f"case {case_id} has no count {cmd.count_no}")
        check_decidable(count.status)
        schedule = in_force(await schedules.all_versions(session), count.occurred_on, "count_no")
        rule = schedule.rule(count.breach, "count_no")
        allowed = {s.action: s for s in (rule.first, rule.repeat, rule.overdue) if s is not None}
        if cmd.action not in allowed:
            raise DomainError(
                "action",
                f"schedule {schedule.version} has no rule giving a {cmd.action.value} for "
                f"{count.breach} (it allows {', '.join(sorted(a.value for a in allowed))})",
            )
        step = allowed[cmd.action]
        if cmd.action is Action.FINE:
            if cmd.amount_yuan is None:
                raise DomainError("amount_yuan", "a fine names its amount")
            rule.fine_step().check_amount(cmd.amount_yuan, "amount_yuan")
        elif cmd.amount_yuan is not None:
            raise DomainError("amount_yuan", "only a fine has an amount")
        if cmd.grace_working_days is not None and cmd.action is not Action.RECTIFICATION_ORDER:
            raise DomainError("grace_working_days", "only an order has a grace period")
        now = self.clock.now()
        order = await repo.open_order_of(session, count.count_id)
        if order is not None:  # the officer's decision supersedes the open order
            await repo.update_decision(session, order.decision_id, closed_at=now)
            await timers.cancel(session, kind=ORDER_DUE, key=order.decision_id, now=now)
        decided = await self.enforcement.decide(
            session, case_id, count.count_id, schedule, rule, step, by=principal.sub,
            amount_yuan=cmd.amount_yuan, grace_working_days=cmd.grace_working_days,
            reason=cmd.reason, trace=trace,
        )  # fmt: skip
        await self._audit(session, principal, "decide", case_id, trace)
        return {
            "case_id": case_id,
            "count_id": count.count_id,
            "decision_id": decided.decision_id,
            "action": decided.action,
            "deadline": decided.deadline,
            "amount_yuan": decided.amount_yuan,
            "policy_version": schedule.version,
            "superseded": order.decision_id if order is not None else None,
        }

    async def check_order(
        self, session: AsyncSession, order_id: str, rectified: bool, principal: Principal,
        trace: Trace,
    ) -> dict[str, Any]:  # fmt: skip
        """An officer's verdict on an order outside a visit (a filed document, a photo)."""
        order = await repo.lock_decision(session, order_id)
        if order is None or order.action != Action.RECTIFICATION_ORDER.value:
            raise NotFound("order", order_id)
        case = await repo.case(session, order.case_id)
        authorize_decide(principal, case)
        if order.closed_at is not None or order.reversed_by is not None:
            raise Conflict(f"order {order_id} is closed")
        result = await self.enforcement.check(
            session, order_id, rectified=rectified, visit_id=None, by=principal.sub,
            source="officer", trace=trace,
        )  # fmt: skip
        await self._audit(session, principal, "check", case.case_id, trace)
        return {"order_id": order_id, "result": result}

    async def appeal(
        self, session: AsyncSession, case_id: str, decision_id: str, grounds: str,
        principal: Principal, trace: Trace,
    ) -> dict[str, Any]:  # fmt: skip
        """The party's appeal of a decision of its own case (or the office recording one
        it received on paper)."""
        case = await repo.lock_case(session, case_id=case_id)
        if case is None:
            raise NotFound("case", case_id)
        authorize_read(principal, case)
        if not is_party_of(principal, case) and principal.role not in DECIDERS:
            raise Forbidden("an appeal is lodged by the party, or recorded by an officer")
        decision = await repo.lock_decision(session, decision_id)
        if decision is None or decision.case_id != case_id:
            raise DomainError("decision_id", f"{decision_id} is not a decision of case {case_id}")
        if decision.reversed_by is not None:
            raise Conflict(f"decision {decision_id} was reversed already")
        if await repo.pending_appeal(session, decision_id) is not None:
            raise Conflict(f"decision {decision_id} has an appeal pending")
        now = self.clock.now()
        appeal_id = str(uuid.uuid4())
        await repo.add_appeal(
            session,
            appeal_id=appeal_id,
            case_id=case_id,
            decision_id=decision_id,
            grounds=self.cipher.encrypt(grounds),
            lodged_at=now,
            lodged_by=principal.sub,
            lodged_role=principal.role,
        )
        await self.publisher.stage(
            session,
            [
                AppealLodged(
                    appeal_id=appeal_id,
                    case_id=case_id,
                    decision_id=decision_id,
                    lodged_at=now,
                    lodged_by=principal.sub,
                )
            ],
            trace,
        )
        await self._audit(session, principal, "appeal", case_id, trace)
        return {"appeal_id": appeal_id, "case_id": case_id, "decision_id": decision_id}

    async def rule_on_appeal(
        self, session: AsyncSession, appeal_id: str, upheld: bool, reason: str,
        principal: Principal, trace: Trace,
    ) -> dict[str, Any]:  # fmt: skip
        """Upheld: the decision is reversed (a new fact; the decision's row stays) and its
        count closed as reversed. Dismissed: the decision stands."""
        appeal = await repo.lock_appeal(session, appeal_id)
        if appeal is None:
            raise NotFound("appeal", appeal_id)
        case = await repo.lock_case(session, case_id=appeal.case_id)
        authorize_decide(principal, case)
        if appeal.decided_at is not None:
            raise Conflict(f"appeal {appeal_id} was decided already")
        now = self.clock.now()
        await repo.update_appeal(
            session,
            appeal_id,
            upheld=upheld,
            decision_reason=self.cipher.encrypt(reason),
            decided_at=now,
            decided_by=principal.sub,
        )
        decision = await repo.lock_decision(session, appeal.decision_id)
        if upheld:
            await repo.update_decision(
                session, decision.decision_id, reversed_by=appeal_id,
                closed_at=decision.closed_at or now,
            )  # fmt: skip
            await timers.cancel(session, kind=ORDER_DUE, key=decision.decision_id, now=now)
            await repo.set_count_status(session, decision.count_id, REVERSED)
        await self.publisher.stage(
            session,
            [
                AppealDecided(
                    appeal_id=appeal_id,
                    case_id=case.case_id,
                    decision_id=decision.decision_id,
                    count_id=decision.count_id,
                    upheld=upheld,
                    decided_at=now,
                    decided_by=principal.sub,
                )
            ],
            trace,
        )
        if upheld:
            await self.enforcement.close_if_settled(session, case.case_id, trace)
        await self._audit(session, principal, "rule_on_appeal", case.case_id, trace)
        return {"appeal_id": appeal_id, "upheld": upheld, "decision_id": decision.decision_id}

    # -- reads ----------------------------------------------------------------------------

    async def view(
        self, session: AsyncSession, case_id: str, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """A case with every fact about it; the read is logged."""
        case = await repo.case(session, case_id)
        if case is None:
            raise NotFound("case", case_id)
        authorize_read(principal, case)
        rows = await repo.rows_of_case(session, case_id)
        await self._audit(session, principal, "read", case_id, trace)
        await session.commit()
        party = principal.role in PARTY_ROLES
        return {
            **_case(case),
            "counts": [
                {
                    "count_id": c.count_id,
                    "breach": c.breach,
                    "occurred_on": c.occurred_on,
                    "source_type": c.source_type,
                    "repeat": c.repeat,
                    "facts": c.facts,
                    "status": c.status,
                    "recorded_at": c.recorded_at,
                }
                for c in rows["counts"]
            ],
            "decisions": [
                {
                    "decision_id": d.decision_id,
                    "count_id": d.count_id,
                    "action": d.action,
                    "amount_yuan": d.amount_yuan,
                    "deadline": d.deadline,
                    "policy_version": d.policy_version,
                    "escalated_from": d.escalated_from,
                    "escalation_reason": d.escalation_reason,
                    "reason": None if party else d.reason,
                    "decided_at": d.decided_at,
                    "decided_by": "office" if party else d.decided_by,
                    "closed_at": d.closed_at,
                    "reversed_by": d.reversed_by,
                }
                for d in rows["decisions"]
            ],
            "checks": [
                {
                    "order_id": k.order_id,
                    "visit_id": k.visit_id,
                    "rectified": k.rectified,
                    "checked_at": k.checked_at,
                    "source": k.source,
                }
                for k in rows["checks"]
            ],
            "notices": [n.document for n in rows["notices"]],
            "appeals": [
                {
                    "appeal_id": a.appeal_id,
                    "decision_id": a.decision_id,
                    "grounds": self.cipher.decrypt(a.grounds),
                    "lodged_at": a.lodged_at,
                    "upheld": a.upheld,
                    "reason": self.cipher.decrypt(a.decision_reason)
                    if a.decision_reason is not None
                    else None,
                    "decided_at": a.decided_at,
                }
                for a in rows["appeals"]
            ],
        }

    async def listing(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        grid_id: str | None,
        status: str | None,
        party_id: str | None,
        property_id: str | None,
        limit: int,
    ) -> dict[str, Any]:
        """Cases of the caller's grids, or a party's own."""
        if principal.role in PARTY_ROLES:
            if not principal.party_id or (party_id not in (None, principal.party_id)):
                return {"cases": []}
            grids, party_id = None, principal.party_id
            if grid_id is not None:
                grids = [grid_id]
        elif grid_id is not None:
            if not principal.covers_grid(grid_id):
                raise Forbidden(f"grid {grid_id} is outside the caller's grids")
            grids = [grid_id]
        else:
            grids = grids_of(principal)
        rows = await repo.cases_of(
            session, grids=grids, party_id=party_id, property_id=property_id, status=status,
            limit=limit,
        )  # fmt: skip
        return {"cases": [_case(row) for row in rows]}

    async def orders(
        self, session: AsyncSession, principal: Principal, *, grid_id: str | None,
        overdue: bool, limit: int,
    ) -> dict[str, Any]:  # fmt: skip
        """Open orders by deadline (``overdue``: past it), for the office."""
        if grid_id is not None:
            if not principal.covers_grid(grid_id):
                raise Forbidden(f"grid {grid_id} is outside the caller's grids")
            grids: list[str] | None = [grid_id]
        else:
            grids = grids_of(principal)
        today = self.enforcement.deadlines.today(self.clock.now())
        rows = await repo.orders(
            session, grids=grids, overdue_on=today if overdue else None, limit=limit
        )
        return {
            "as_of": today,
            "orders": [
                {
                    "order_id": r.decision_id,
                    "case_id": r.case_id,
                    "count_id": r.count_id,
                    "grid_id": r.grid_id,
                    "property_id": r.property_id,
                    "party_id": r.party_id,
                    "deadline": r.deadline,
                    "overdue": r.deadline < today,
                    "decided_at": r.decided_at,
                }
                for r in rows
            ],
        }

    async def figures(
        self, session: AsyncSession, principal: Principal, *, month: str, grid_id: str | None
    ) -> dict[str, Any]:
        """The office's counts for a month: penalised and ordered (decisions and distinct
        properties or employers), fines, compliance (orders verified by their deadline),
        orders overdue now, repeat offenders over the past year."""
        if grid_id is not None:
            if not principal.covers_grid(grid_id):
                raise Forbidden(f"grid {grid_id} is outside the caller's grids")
            grids: list[str] | None = [grid_id]
        else:
            grids = grids_of(principal)
        tz = self.enforcement.deadlines.timezone
        year, mon = (int(x) for x in month.split("-"))
        start = datetime.combine(date(year, mon, 1), time(), tz)
        end = datetime.combine(date(year + (mon == 12), mon % 12 + 1, 1), time(), tz)
        now = self.clock.now()
        today = self.enforcement.deadlines.today(now)
        rows = await repo.decisions_between(session, grids=grids, start=start, end=end)
        live = [r for r in rows if r.reversed_by is None]
        orders = [r for r in live if r.action == Action.RECTIFICATION_ORDER.value]
        fines = [r for r in live if r.action == Action.FINE.value]
        verified = await repo.verified_orders(session, [o.decision_id for o in orders])
        due = [o for o in orders if o.deadline < today or o.decision_id in verified]
        on_time = [
            o
            for o in due
            if o.decision_id in verified
            and self.enforcement.deadlines.on_time(o.deadline, verified[o.decision_id])
        ]
        overdue = await repo.orders(session, grids=grids, overdue_on=today, limit=10_000)
        repeaters = await repo.repeat_offenders(
            session, grids=grids, since=now - timedelta(days=365), limit=50
        )
        return {
            "month": month,
            "grid_id": grid_id,
            "as_of": now,
            "orders": len(orders),
            "ordered_to_rectify": len({o.subject_id for o in orders}),
            "fines": len(fines),
            "fined_yuan": sum(f.amount_yuan or 0 for f in fines),
            "penalised": len({f.subject_id for f in fines}),
            "warnings": sum(1 for r in live if r.action == Action.WARNING.value),
            "reversed": len(rows) - len(live),
            "orders_due": len(due),
            "orders_verified_on_time": len(on_time),
            "compliance_rate": round(len(on_time) / len(due), 4) if due else None,
            "orders_overdue_now": len(overdue),
            "repeat_offenders": [
                {"party_kind": r.party_kind, "party_id": r.party_id, "cases": r.cases}
                for r in repeaters
            ],
        }

    async def _audit(
        self, session: AsyncSession, principal: Principal, action: str, case_id: str,
        trace: Trace,
    ) -> None:  # fmt: skip
        await repo.audit(
            session,
            at=self.clock.now(),
            principal=principal.sub,
            role=principal.role,
            action=action,
            case_id=case_id,
            correlation_id=trace.correlation_id,
        )


def _case(row: Any) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "party_kind": row.party_kind,
        "party_id": row.party_id,
        "property_id": row.property_id,
        "employer_id": row.employer_id,
        "grid_id": row.grid_id,
        "origin": row.origin,
        "grouping_key": row.grouping_key,
        "status": row.status,
        "outcome": row.outcome,
        "counts": row.counts,
        "opened_at": row.opened_at,
        "closed_at": row.closed_at,
    }
