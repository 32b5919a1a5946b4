"""The penalty schedule's versions: listed (flagged when past review), added by an admin
(a later open-ended version ends the one before; any other overlap is refused), the
default loaded into an empty store, and a case's decisions recomputed as of a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal
from common.clock import Clock
from common.errors import DomainError, Forbidden, NotFound
from penalties.adapters import cases_repository as repo
from penalties.adapters import schedules_repository as store
from penalties.app.access import ADMINS, authorize_read
from penalties.domain.cases import Deadlines
from penalties.domain.schedule import Schedule, admit, ended_before, in_force

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Schedules:
    clock: Clock
    default: Path
    deadlines: Deadlines

    async def load_default(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """An empty store starts with the packaged schedule (at startup; idempotent)."""
        schedule = Schedule.model_validate_json(self.default.read_text(encoding="utf-8"))
        async with sessionmaker() as session, session.begin():
            await store.lock_all(session)
            if await store.all_versions(session):
                return
            if await store.add(session, schedule, by="system", now=self.clock.now()):
                log.info("penalties.schedule_loaded", version=schedule.version)

    async def listing(self, session: AsyncSession) -> dict[str, Any]:
        today = self.deadlines.today(self.clock.now())
        versions = await store.all_versions(session)
        return {
            "as_of": today,
            "schedules": [
                {
                    **s.model_dump(mode="json"),
                    "in_force": s.in_force(today),
                    "review_overdue": s.review_overdue(today),
                }
                for s in versions
            ],
        }

    async def add(
        self, session: AsyncSession, schedule: Schedule, principal: Principal
    ) -> dict[str, Any]:
        if principal.role not in ADMINS:
            raise Forbidden("the schedule is edited by the office's admins")
        await store.lock_all(session)
        existing = await store.all_versions(session)
        superseded = admit(existing, schedule)
        now = self.clock.now()
        if superseded is not None:
            await store.end(
                session, ended_before(superseded, schedule.effective_from), by=principal.sub,
                now=now,
            )  # fmt: skip
        await store.add(session, schedule, by=principal.sub, now=now)
        return {
            "version": schedule.version,
            "effective_from": schedule.effective_from,
            "effective_to": schedule.effective_to,
            "superseded": superseded.version if superseded else None,
        }

    async def recompute(
        self, session: AsyncSession, case_id: str, as_of: date | None, principal: Principal
    ) -> dict[str, Any]:
        """Each count's first decision under the schedule in force on ``as_of`` (default:
        the day of its breach, which is what was decided). Changes nothing."""
        case = await repo.case(session, case_id)
        if case is None:
            raise NotFound("case", case_id)
        authorize_read(principal, case)
        versions = await store.all_versions(session)
        rows = await repo.rows_of_case(session, case_id)
        counts = []
        for count in rows["counts"]:
            day = as_of or count.occurred_on
            try:
                schedule = in_force(versions, day, "as_of")
                rule = schedule.rule(count.breach, "as_of")
            except DomainError as exc:
                counts.append({"count_id": count.count_id, "as_of": day, "error": exc.message})
                continue
            step = rule.step(repeat=count.repeat)
            counts.append(
                {
                    "count_id": count.count_id,
                    "breach": count.breach,
                    "as_of": day,
                    "policy_version": schedule.version,
                    "article": rule.article,
                    "decision": step.model_dump(mode="json", exclude_none=True),
                    "then_if_not_rectified": rule.overdue.model_dump(
                        mode="json", exclude_none=True
                    ),
                }
            )
        return {"case_id": case_id, "counts": counts}
