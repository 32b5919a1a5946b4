"""Cases' statements: cases, counts, decisions, checks, notices, appeals, the access log."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import conflict_insert
from penalties.adapters.cases_tables import (
    access_log,
    appeals,
    cases,
    checks,
    counts,
    decisions,
    notices,
)
from penalties.domain.cases import OPEN

CLOSED = "closed"
ORDER = "rectification_order"


async def open_case(session: AsyncSession, **values: Any) -> bool:
    """Insert the case unless its grouping key already has one; True if created now."""
    result = await session.execute(
        conflict_insert(session)(cases)
        .values(**values, status=OPEN, counts=0)
        .on_conflict_do_nothing(index_elements=[cases.c.grouping_key, cases.c.subject_id])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult


async def lock_case(session: AsyncSession, *, case_id: str | None = None, **key: str) -> Any:
    """The case by id, or by (grouping_key, subject_id), locked for the transaction."""
    query = select(cases).with_for_update()
    if case_id is not None:
        query = query.where(cases.c.case_id == case_id)
    else:
        query = query.where(
            cases.c.grouping_key == key["grouping_key"], cases.c.subject_id == key["subject_id"]
        )
    return (await session.execute(query)).first()


async def case(session: AsyncSession, case_id: str) -> Any:
    return (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()


async def count_of_breach(session: AsyncSession, breach: str, breach_id: str) -> Any:
    query = select(counts).where(counts.c.breach == breach, counts.c.breach_id == breach_id)
    return (await session.execute(query)).first()


async def add_count(session: AsyncSession, case_id: str, n: int, **values: Any) -> None:
    await session.execute(insert(counts).values(case_id=case_id, **values))
    await session.execute(update(cases).where(cases.c.case_id == case_id).values(counts=n))


async def repeated(
    session: AsyncSession, *, subject_id: str, breach: str, on: date, lookback_days: int,
    case_id: str,
) -> bool:  # fmt: skip
    """The same breach at the same property or employer, in another case, within the
    look-back before ``on`` (its day included)."""
    query = select(func.count()).where(
        counts.c.subject_id == subject_id,
        counts.c.breach == breach,
        counts.c.case_id != case_id,
        counts.c.occurred_on <= on,
        counts.c.occurred_on >= on - timedelta(days=lookback_days),
        counts.c.status != "reversed",
    )
    return bool((await session.execute(query)).scalar_one())


async def count(session: AsyncSession, count_id: str) -> Any:
    return (await session.execute(select(counts).where(counts.c.count_id == count_id))).first()


async def set_count_status(session: AsyncSession, count_id: str, status: str) -> None:
    await session.execute(update(counts).where(counts.c.count_id == count_id).values(status=status))


async def statuses(session: AsyncSession, case_id: str) -> list[str]:
    rows = await session.execute(select(counts.c.status).where(counts.c.case_id == case_id))
    return [status for (status,) in rows]


async def close_case(session: AsyncSession, case_id: str, *, outcome: str, now: datetime) -> bool:
    result = await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id, cases.c.status == OPEN)
        .values(status=CLOSED, outcome=outcome, closed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def fined_yuan(session: AsyncSession, case_id: str) -> int:
    query = select(func.coalesce(func.sum(decisions.c.amount_yuan), 0)).where(
        decisions.c.case_id == case_id,
        decisions.c.action == "fine",
        decisions.c.reversed_by.is_(None),
    )
    return int((await session.execute(query)).scalar_one())


async def add_decision(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(decisions).values(**values))


async def lock_decision(session: AsyncSession, decision_id: str) -> Any:
    query = select(decisions).where(decisions.c.decision_id == decision_id).with_for_update()
    return (await session.execute(query)).first()


async def update_decision(session: AsyncSession, decision_id: str, **values: Any) -> None:
    await session.execute(
        update(decisions).where(decisions.c.decision_id == decision_id).values(**values)
    )


async def open_order_of(session: AsyncSession, count_id: str) -> Any:
    query = select(decisions).where(
        decisions.c.count_id == count_id,
        decisions.c.action == ORDER,
        decisions.c.closed_at.is_(None),
        decisions.c.reversed_by.is_(None),
    )
    return (await session.execute(query)).first()


async def open_orders_for_breach(session: AsyncSession, breach: str, breach_id: str) -> list[Any]:
    query = (
        select(decisions)
        .join(counts, counts.c.count_id == decisions.c.count_id)
        .where(
            counts.c.breach == breach,
            counts.c.breach_id == breach_id,
            decisions.c.action == ORDER,
            decisions.c.closed_at.is_(None),
            decisions.c.reversed_by.is_(None),
        )
    )
    return list((await session.execute(query)).all())


async def add_check(session: AsyncSession, **values: Any) -> bool:
    """Record a follow-up's verdict unless this visit already gave one; True if new."""
    if values.get("visit_id") is not None:
        result = await session.execute(
            conflict_insert(session)(checks)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[checks.c.order_id, checks.c.visit_id])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
    await session.execute(insert(checks).values(**values))
    return True


async def add_notice(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(notices).values(**values))


async def add_appeal(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(appeals).values(**values))


async def lock_appeal(session: AsyncSession, appeal_id: str) -> Any:
    query = select(appeals).where(appeals.c.appeal_id == appeal_id).with_for_update()
    return (await session.execute(query)).first()


async def pending_appeal(session: AsyncSession, decision_id: str) -> Any:
    query = select(appeals).where(
        appeals.c.decision_id == decision_id, appeals.c.decided_at.is_(None)
    )
    return (await session.execute(query)).first()


async def update_appeal(session: AsyncSession, appeal_id: str, **values: Any) -> None:
    await session.execute(update(appeals).where(appeals.c.appeal_id == appeal_id).values(**values))


async def audit(session: AsyncSession, **values: Any) -> None:
    """One row of the access log (every read of a case and every decision)."""
    await session.execute(insert(access_log).values(**values))


# -- reads -------------------------------------------------------------------------------


async def cases_of(
    session: AsyncSession,
    *,
    grids: list[str] | None,
    party_id: str | None,
    property_id: str | None,
    status: str | None,
    limit: int,
) -> list[Any]:
    query = select(cases).order_by(cases.c.opened_at.desc(), cases.c.case_id).limit(limit)
    if grids is not None:
        query = query.where(cases.c.grid_id.in_(grids))
    if party_id is not None:
        query = query.where(cases.c.party_id == party_id)
    if property_id is not None:
        query = query.where(cases.c.property_id == property_id)
    if status is not None:
        query = query.where(cases.c.status == status)
    return list((await session.execute(query)).all())


async def rows_of_case(session: AsyncSession, case_id: str) -> dict[str, list[Any]]:
    """Every row about one case, each kind in order of time."""

    async def rows(table: Any, order: Any) -> list[Any]:
        query = select(table).where(table.c.case_id == case_id).order_by(order)
        return list((await session.execute(query)).all())

    order_ids = select(decisions.c.decision_id).where(decisions.c.case_id == case_id)
    check_rows = await session.execute(
        select(checks).where(checks.c.order_id.in_(order_ids)).order_by(checks.c.checked_at)
    )
    return {
        "counts": await rows(counts, counts.c.recorded_at),
        "decisions": await rows(decisions, decisions.c.decided_at),
        "checks": list(check_rows.all()),
        "notices": await rows(notices, notices.c.issued_at),
        "appeals": await rows(appeals, appeals.c.lodged_at),
    }


async def orders(
    session: AsyncSession, *, grids: list[str] | None, overdue_on: date | None, limit: int
) -> list[Any]:
    """Open orders by deadline; ``overdue_on``: those whose deadline is before that day."""
    query = (
        select(decisions, cases.c.grid_id, cases.c.property_id, cases.c.party_id)
        .join(cases, cases.c.case_id == decisions.c.case_id)
        .where(
            decisions.c.action == ORDER,
            decisions.c.closed_at.is_(None),
            decisions.c.reversed_by.is_(None),
        )
        .order_by(decisions.c.deadline, decisions.c.decision_id)
        .limit(limit)
    )
    if grids is not None:
        query = query.where(cases.c.grid_id.in_(grids))
    if overdue_on is not None:
        query = query.where(decisions.c.deadline < overdue_on)
    return list((await session.execute(query)).all())


async def decisions_between(
    session: AsyncSession, *, grids: list[str] | None, start: datetime, end: datetime
) -> list[Any]:
    """Decisions made in [start, end), with their case's grid, property and party."""
    query = (
        select(
            decisions.c.action,
            decisions.c.deadline,
            decisions.c.closed_at,
            decisions.c.reversed_by,
            decisions.c.decision_id,
            decisions.c.amount_yuan,
            cases.c.grid_id,
            cases.c.subject_id,
            cases.c.party_id,
        )
        .join(cases, cases.c.case_id == decisions.c.case_id)
        .where(decisions.c.decided_at >= start, decisions.c.decided_at < end)
    )
    if grids is not None:
        query = query.where(cases.c.grid_id.in_(grids))
    return list((await session.execute(query)).all())


async def verified_orders(session: AsyncSession, order_ids: list[str]) -> dict[str, datetime]:
    """When each of these orders was verified (its first check that found it rectified)."""
    if not order_ids:
        return {}
    query = (
        select(checks.c.order_id, func.min(checks.c.checked_at))
        .where(checks.c.order_id.in_(order_ids), checks.c.rectified.is_(True))
        .group_by(checks.c.order_id)
    )
    return {order_id: at for order_id, at in await session.execute(query)}


async def repeat_offenders(
    session: AsyncSession, *, grids: list[str] | None, since: datetime, limit: int
) -> list[Any]:
    """Parties with more than one case opened since ``since``, most cases first."""
    n = func.count().label("cases")
    query = (
        select(cases.c.party_kind, cases.c.party_id, n)
        .where(cases.c.opened_at >= since, cases.c.party_id.is_not(None))
        .group_by(cases.c.party_kind, cases.c.party_id)
        .having(func.count() > 1)
        .order_by(n.desc(), cases.c.party_id)
        .limit(limit)
    )
    if grids is not None:
        query = query.where(cases.c.grid_id.in_(grids))
    return list((await session.execute(query)).all())
