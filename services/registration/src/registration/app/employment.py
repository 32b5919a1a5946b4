"""Employment command handlers and the monthly-return deadline timer.

Same shape as :mod:`registration.app.residences`: load, check who may act, call the
domain, save, stage the events in the outbox, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import DomainError, NotFound
from common.identity import ResidentId
from common.pii import PiiCipher, mask_id_number
from common.publisher import Publisher
from registration.adapters import employment_repository as repo
from registration.app.access import authorize_employer
from registration.app.persons import Declared, PersonRecords
from registration.app.place_checks import require_grid
from registration.app.roster import Roster
from registration.domain.credit_code import CreditCode
from registration.domain.employment import Employer, MonthFigures
from registration.domain.policy import EmployerReturnPolicy, Month
from registration.events import EmployerChannel, EmploymentEnded

log = structlog.get_logger(__name__)

RETURN_TIMER = "employer-return"
"""Timer kind; the key is ``<employer_id>/<YYYY-MM>``: the deadline of that month's return."""


@dataclass(frozen=True)
class RegisterEmployer:
    credit_code: str
    name: str
    grid_id: str
    address: str


@dataclass(frozen=True)
class DeclareHire:
    employer_id: str
    id_number: str
    name: str
    phone: str | None
    hired_on: date


@dataclass(frozen=True)
class DeclareLeave:
    employer_id: str
    employment_id: str
    left_on: date


@dataclass(frozen=True)
class FileReturn:
    employer_id: str
    month: str
    headcount: int
    hires: int
    leavers: int


def _valid_ids(roster: Roster, today: date) -> list[ResidentId]:
    """The roster's valid identity numbers (the invalid ones are reported line by line)."""
    valid = []
    for row in roster.valid:
        try:
            valid.append(ResidentId.parse(row.id_number, today=today))
        except DomainError:
            continue
    return valid


def employer_channel(principal: Principal) -> EmployerChannel:
    if principal.role == "employer":
        return EmployerChannel.EMPLOYER_SELF_DECLARATION
    return EmployerChannel.OFFICER


# Domain fields of a hire/leave -> the roster's column names.
_ROSTER_FIELDS = {"hired_on": "date", "left_on": "date"}


class EmploymentService:
    def __init__(
        self, *, publisher: Publisher, clock: Clock, cipher: PiiCipher, policy: EmployerReturnPolicy
    ) -> None:
        self.publisher = publisher
        self.clock = clock
        self.cipher = cipher
        self.policy = policy
        self.persons = PersonRecords(cipher, timezone=policy.timezone)

    async def _load(
        self,
        session: AsyncSession,
        employer_id: str,
        principal: Principal,
        *,
        with_active: bool = True,
        for_update: bool = True,
    ) -> Employer:
        employer = await repo.load_employer(
            session, employer_id, with_active=with_active, for_update=for_update
        )
        if employer is None:
            raise NotFound("employer", employer_id)
        authorize_employer(principal, grid_id=employer.grid_id, credit_code=employer.credit_code)
        return employer

    async def _ensure_return_timer(
        self, session: AsyncSession, employer_id: str, month: Month
    ) -> None:
        await repo.ensure_timer(
            session,
            kind=RETURN_TIMER,
            key=f"{employer_id}/{month}",
            due_at=self.policy.due_at(month),
            payload={"employer_id": employer_id, "month": str(month)},
        )

    # -- commands ----------------------------------------------------------------------
    async def register_employer(
        self, session: AsyncSession, cmd: RegisterEmployer, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        authorize_employer(
            principal, grid_id=cmd.grid_id, credit_code=cmd.credit_code.strip().upper()
        )
        code = CreditCode.parse(cmd.credit_code)
        await require_grid(session, cmd.grid_id)
        existing = await repo.employer_id_by_credit_code(session, code.value)
        if existing is not None:
            raise DomainError("credit_code", f"is already registered (employer {existing})")
        now = self.clock.now()
        channel = employer_channel(principal)
        employer = Employer.register(
            employer_id=str(uuid.uuid4()),
            credit_code=code,
            name=cmd.name,
            grid_id=cmd.grid_id,
            address=cmd.address,
            channel=channel,
            now=now,
        )
        await repo.add_employer(
            session, employer, channel=channel.value, registered_by=principal.sub
        )
        await self.publisher.stage(session, employer.events, trace)
        first_month = self.policy.month_of(now)
        await self._ensure_return_timer(session, employer.id, first_month)
        return {
            "employer_id": employer.id,
            "credit_code": employer.credit_code,
            "grid_id": employer.grid_id,
            "first_return": {
                "month": str(first_month),
                "due_at": self.policy.due_at(first_month),
            },
        }

    async def declare_hire(
        self, session: AsyncSession, cmd: DeclareHire, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        employer = await self._load(session, cmd.employer_id, principal)
        now = self.clock.now()
        person = ResidentId.parse(cmd.id_number, today=self.policy.local_date(now))
        if not cmd.name.strip():
            raise DomainError("name", "must not be empty")
        known = await self.persons.lookup(session, [person])
        event = employer.hire(
            employment_id=str(uuid.uuid4()),
            person=person,
            person_ref=known.ref(person),
            id_number_masked=mask_id_number(person.value),
            hired_on=cmd.hired_on,
            today=self.policy.local_date(now),
            now=now,
            channel=employer_channel(principal),
        )
        recorded = await self.persons.record(
            session,
            [Declared(person, cmd.name.strip(), cmd.phone)],
            known,
            recorded_by=principal.sub,
            now=now,
            correlation_id=trace.correlation_id,
        )
        await repo.add_employments(session, [repo.employment_row(event, declared_by=principal.sub)])
        await self.publisher.stage(session, [*recorded[0].events, *employer.events], trace)
        return {
            "employment_id": event.employment_id,
            "employer_id": employer.id,
            "person_ref": event.person_ref,
            "id_number_masked": event.id_number_masked,
            "hired_on": event.hired_on,
        }

    async def declare_leave(
        self, session: AsyncSession, cmd: DeclareLeave, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        employer = await self._load(session, cmd.employer_id, principal)
        found = await repo.employment_employer(session, cmd.employment_id)
        if found is None or found[0] != employer.id:
            raise NotFound("employment", cmd.employment_id)
        _, row = found
        if row.left_on is not None:
            raise DomainError("employment_id", f"ended already (left on {row.left_on.isoformat()})")
        now = self.clock.now()
        event = employer.leave(
            person_ref=row.person_ref,
            left_on=cmd.left_on,
            today=self.policy.local_date(now),
            now=now,
            channel=employer_channel(principal),
        )
        await repo.end_employments(session, [event], ended_by=principal.sub)
        await self.publisher.stage(session, employer.events, trace)
        return {
            "employment_id": event.employment_id,
            "employer_id": employer.id,
            "person_ref": event.person_ref,
            "hired_on": event.hired_on,
            "left_on": event.left_on,
        }

    async def upload_roster(
        self,
        session: AsyncSession,
        employer_id: str,
        roster: Roster,
        principal: Principal,
        trace: Trace,
    ) -> tuple[int, dict[str, Any]]:
        """Apply every valid line of a roster; report the others. 201, or 200 for a repeat."""
        employer = await self._load(session, employer_id, principal)
        prior = await repo.find_roster_upload(session, employer.id, roster.sha256)
        if prior is not None:
            return 200, {**prior.report, "already_applied": True}
        now = self.clock.now()
        today = self.policy.local_date(now)
        channel = employer_channel(principal)
        upload_id = str(uuid.uuid4())
        errors: list[dict[str, Any]] = [e.as_dict() for e in roster.errors]
        known = await self.persons.lookup(session, _valid_ids(roster, today))
        people: list[Declared] = []
        new_rows: dict[str, dict[str, Any]] = {}
        ended: list[EmploymentEnded] = []
        hires = leaves = 0
        for row in roster.valid:
            try:
                person = ResidentId.parse(row.id_number, today=today)
                ref = known.ref(person)
                if row.action == "hire":
                    hired = employer.hire(
                        employment_id=str(uuid.uuid4()),
                        person=person,
                        person_ref=ref,
                        id_number_masked=mask_id_number(person.value),
                        hired_on=row.day,
                        today=today,
                        now=now,
                        channel=channel,
                        via_roster=True,
                    )
                    people.append(Declared(person, row.name, row.phone))
                    new_rows[hired.employment_id] = repo.employment_row(
                        hired, declared_by=principal.sub, roster_upload_id=upload_id
                    )
                    hires += 1
                else:
                    left = employer.leave(
                        person_ref=ref,
                        left_on=row.day,
                        today=today,
                        now=now,
                        channel=channel,
                        via_roster=True,
                    )
                    started_here = new_rows.get(left.employment_id)
                    if started_here is not None:  # hired earlier in this same file
                        started_here.update(
                            left_on=left.left_on, ended_by=principal.sub, ended_at=now
                        )
                    else:
                        ended.append(left)
                    leaves += 1
            except DomainError as exc:
                errors.append(
                    {
                        "line": row.line,
                        "field": _ROSTER_FIELDS.get(exc.field, exc.field),
                        "reason": exc.message,
                    }
                )
        errors.sort(key=lambda e: int(e["line"]))
        recorded = await self.persons.record(
            session,
            people,
            known,
            recorded_by=principal.sub,
            now=now,
            correlation_id=trace.correlation_id,
        )
        await repo.add_employments(session, list(new_rows.values()))
        await repo.end_employments(session, ended, ended_by=principal.sub)
        person_events = [e for p in recorded for e in p.events]
        await self.publisher.stage(session, [*person_events, *employer.events], trace)
        report: dict[str, Any] = {
            "upload_id": upload_id,
            "employer_id": employer.id,
            "content_sha256": roster.sha256,
            "rows": roster.rows,
            "applied": hires + leaves,
            "hires": hires,
            "leaves": leaves,
            "rejected": len(errors),
            "errors": errors,
            "already_applied": False,
        }
        if report["applied"]:  # a file that changed nothing may be corrected and sent again
            await repo.add_roster_upload(
                session,
                upload_id=upload_id,
                employer_id=employer.id,
                sha256=roster.sha256,
                report=report,
                uploaded_by=principal.sub,
                now=now,
            )
        return 201, report

    async def file_return(
        self, session: AsyncSession, cmd: FileReturn, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        employer = await self._load(session, cmd.employer_id, principal, with_active=False)
        month = Month.parse(cmd.month)
        now = self.clock.now()
        event = employer.file_return(
            month=month,
            figures=MonthFigures(cmd.headcount, cmd.hires, cmd.leavers),
            previous_version=await repo.latest_return_version(session, employer.id, str(month)),
            recorded_headcount=await repo.recorded_headcount(
                session, employer.id, month.last_day()
            ),
            now=now,
            channel=employer_channel(principal),
            policy=self.policy,
        )
        await repo.add_return(session, event, filed_by=principal.sub)
        await self.publisher.stage(session, employer.events, trace)
        # Keep the chain of deadlines going (the timer of a filed month checks, not us).
        await self._ensure_return_timer(session, employer.id, month.next())
        return {
            "employer_id": employer.id,
            "month": event.month,
            "version": event.return_version,
            "amended": event.return_version > 1,
            "headcount": event.headcount,
            "hires": event.hires,
            "leavers": event.leavers,
            "recorded_headcount": event.recorded_headcount,
            "due_at": event.due_at,
            "on_time": event.on_time,
            "filed_at": event.filed_at,
        }

    # -- the deadline ------------------------------------------------------------------
    async def on_return_due(self, session: AsyncSession, key: str, payload: dict[str, Any]) -> None:
        """Timer ``employer-return``: report the month missed if no return came; arm the next."""
        employer_id, month = payload["employer_id"], Month.parse(payload["month"])
        employer = await repo.load_employer(session, employer_id, with_active=False)
        if employer is None:
            log.warning("employment.return_timer_orphan", timer_key=key)
            return
        if not await repo.latest_return_version(session, employer_id, str(month)):
            employer.return_missed(month=month, now=self.clock.now(), policy=self.policy)
            await self.publisher.stage(session, employer.events, None)
            log.info("employment.return_missed", employer_id=employer_id, month=str(month))
        await self._ensure_return_timer(session, employer_id, month.next())
