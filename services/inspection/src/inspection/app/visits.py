"""Visits: a submission from the field (idempotent, versioned), and what a completed one
publishes: each occupant met (restricted), each hazard, the visit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import Conflict, DomainError, NotFound
from common.events import Event
from common.pii import PiiCipher, mask_id_number
from common.publisher import Publisher
from inspection.adapters import (
    follow_ups_repository,
    registry_repository,
    sweeps_repository,
    visits_repository,
)
from inspection.app.access import authorize_grid, authorize_visit
from inspection.domain.visits import (
    FollowUpVerdict,
    HazardCheck,
    HazardFailure,
    HazardPolicy,
    OccupantMet,
    ShiftPolicy,
    accept,
    checked_occupants,
    failed_hazards,
)
from inspection.events import (
    FollowUpResult,
    HazardFound,
    InspectionCompleted,
    OccupantFound,
    VisitOutcome,
)


@dataclass(frozen=True)
class SubmitVisit:
    visit_id: str
    version: int
    property_id: str
    plan_id: str | None
    captured_at: datetime
    outcome: VisitOutcome
    notes: str | None
    occupants: list[OccupantMet]
    hazards: list[HazardCheck]
    completed: bool
    sweep_id: str | None = None
    rooms_entered: tuple[str, ...] = ()
    """Rooms (households) entered, whether or not anyone was met: a sweep's coverage."""
    follow_ups: tuple[FollowUpVerdict, ...] = ()
    """Verdicts on the property's open rectification orders (penalties')."""

    def sha256(self) -> str:
        """The submission's content, so that a replay is told from an edit."""
        body = {k: v for k, v in asdict(self).items() if k != "version"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Visits:
    publisher: Publisher
    clock: Clock
    cipher: PiiCipher
    hazards: HazardPolicy
    shifts: ShiftPolicy

    async def submit(
        self, session: AsyncSession, cmd: SubmitVisit, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        prop = await registry_repository.property_of(session, cmd.property_id)
        if prop is None:
            raise DomainError("property_id", "is not a registered property (a sweep finds those)")
        now = self.clock.now()
        day = cmd.captured_at.astimezone(self.shifts.timezone).date()
        await authorize_visit(session, principal, prop.grid_id, day.strftime("%Y-%m"))
        if cmd.captured_at > now:
            raise DomainError("captured_at", "is in the future")
        rooms = frozenset(prop.room_numbers)
        occupants = checked_occupants(cmd.occupants, rooms, today=day)
        for i, room in enumerate(cmd.rooms_entered):
            if room not in rooms:
                raise DomainError(f"rooms_entered.{i}", f"room {room!r} is not registered")
        if cmd.sweep_id is not None:
            await sweeps_repository.require_running(session, cmd.sweep_id, prop.grid_id, day)
        await self._check_follow_ups(session, cmd)
        failures = failed_hazards(cmd.hazards, self.hazards, today=day)
        if cmd.outcome is not VisitOutcome.VISITED and (occupants or cmd.hazards or cmd.follow_ups):
            raise DomainError("outcome", "only a visit (outcome visited) records people and checks")
        stored = await visits_repository.lock(session, cmd.visit_id)
        if stored is not None and stored[1].officer_id != principal.sub:
            raise Conflict(f"visit {cmd.visit_id} is another officer's")
        content = cmd.sha256()
        if not accept(stored[0] if stored else None, version=cmd.version, content_sha256=content):
            return self._answer(cmd, replayed=True, failures=len(failures))
        evening = self.shifts.is_evening(cmd.captured_at)
        failed = {f.item: f for f in failures}
        await visits_repository.save(
            session,
            {
                "visit_id": cmd.visit_id,
                "property_id": cmd.property_id,
                "grid_id": prop.grid_id,
                "plan_id": cmd.plan_id,
                "sweep_id": cmd.sweep_id,
                "rooms_entered": sorted({*cmd.rooms_entered, *(o.room_no for o in occupants)}),
                "officer_id": principal.sub,
                "version": cmd.version,
                "content_sha256": content,
                "completed": cmd.completed,
                "outcome": cmd.outcome.value,
                "notes_enc": self.cipher.encrypt(cmd.notes) if cmd.notes else None,
                "evening": evening,
                "captured_at": cmd.captured_at,
                "received_at": now,
                "completed_at": now if cmd.completed else None,
                "policy_version": self.hazards.version,
            },
            [self._occupant_row(cmd.visit_id, i, o) for i, o in enumerate(occupants)],
            [self._check_row(cmd.visit_id, check, failed.get(check.item)) for check in cmd.hazards],
            new=stored is None,
        )
        if cmd.completed:
            await registry_repository.visited(session, cmd.property_id, day)
            for verdict in cmd.follow_ups:
                await follow_ups_repository.record(
                    session, verdict.order_id, visit_id=cmd.visit_id,
                    rectified=verdict.rectified, at=now,
                )  # fmt: skip
            events: list[Event] = [
                OccupantFound(
                    finding_id=f"{cmd.visit_id}:{self.cipher.keyed_hash(o.id_number)[:16]}",
                    property_id=cmd.property_id,
                    room_no=o.room_no,
                    id_number=o.id_number,
                    full_name=o.full_name,
                    phone=o.phone,
                    moved_in_on=o.moved_in_on,
                    found_at=cmd.captured_at,
                    officer_id=principal.sub,
                    visit_id=cmd.visit_id,
                )
                for o in occupants
            ]
            events += [
                HazardFound(
                    finding_id=f"{cmd.visit_id}:{f.item}",
                    visit_id=cmd.visit_id,
                    property_id=cmd.property_id,
                    grid_id=prop.grid_id,
                    item=f.item,
                    category=f.category,
                    severity=f.severity,
                    correction_working_days=f.correction_working_days,
                    correct_by=f.correct_by,
                    note=f.note,
                    found_at=cmd.captured_at,
                    policy_version=self.hazards.version,
                )
                for f in failures
            ]
            events.append(
                InspectionCompleted(
                    visit_id=cmd.visit_id,
                    property_id=cmd.property_id,
                    grid_id=prop.grid_id,
                    plan_id=cmd.plan_id,
                    officer_id=principal.sub,
                    outcome=cmd.outcome,
                    occupants_met=len(occupants),
                    hazards_failed=len(failures),
                    evening=evening,
                    captured_at=cmd.captured_at,
                    completed_at=now,
                    follow_ups=[
                        FollowUpResult(order_id=v.order_id, rectified=v.rectified)
                        for v in cmd.follow_ups
                    ],
                )
            )
            await self.publisher.stage(session, events, trace)
        return self._answer(cmd, replayed=False, failures=len(failures))

    @staticmethod
    async def _check_follow_ups(session: AsyncSession, cmd: SubmitVisit) -> None:
        """Each verdict names an open order of this property (or one this visit already
        recorded: a later version of it), once."""
        if not cmd.follow_ups:
            return
        known = await follow_ups_repository.of_property(session, cmd.property_id)
        seen: set[str] = set()
        for i, verdict in enumerate(cmd.follow_ups):
            row = known.get(verdict.order_id)
            field = f"follow_ups.{i}.order_id"
            if row is None:
                raise DomainError(field, "is not a rectification order of this property")
            if row.status != follow_ups_repository.OPEN and row.visit_id != cmd.visit_id:
                raise DomainError(field, f"was followed up already, on visit {row.visit_id}")
            if verdict.order_id in seen:
                raise DomainError(field, "is named twice")
            seen.add(verdict.order_id)

    def _occupant_row(self, visit_id: str, seq: int, o: OccupantMet) -> dict[str, Any]:
        return {
            "visit_id": visit_id,
            "seq": seq,
            "room_no": o.room_no,
            "id_hash": self.cipher.keyed_hash(o.id_number),
            "id_number_enc": self.cipher.encrypt(o.id_number),
            "name_enc": self.cipher.encrypt(o.full_name),
            "phone_enc": self.cipher.encrypt(o.phone) if o.phone else None,
            "moved_in_on": o.moved_in_on,
        }

    @staticmethod
    def _check_row(
        visit_id: str, check: HazardCheck, failure: HazardFailure | None
    ) -> dict[str, Any]:
        return {
            "visit_id": visit_id,
            "item": check.item,
            "passed": check.passed,
            "severity": failure.severity.value if failure else None,
            "correct_by": failure.correct_by if failure else None,
            "note": check.note,
        }

    @staticmethod
    def _answer(cmd: SubmitVisit, *, replayed: bool, failures: int) -> dict[str, Any]:
        return {
            "visit_id": cmd.visit_id,
            "version": cmd.version,
            "completed": cmd.completed,
            "replayed": replayed,
            "occupants_met": len(cmd.occupants),
            "hazards_failed": failures,
        }

    async def view(
        self, session: AsyncSession, visit_id: str, principal: Principal
    ) -> dict[str, Any]:
        """A visit as its grid's staff see it: occupants by room with masked numbers."""
        loaded = await visits_repository.load(session, visit_id)
        if loaded is None:
            raise NotFound("visit", visit_id)
        row, occupants, hazards = loaded
        authorize_grid(principal, row.grid_id)
        return {
            "visit_id": row.visit_id,
            "property_id": row.property_id,
            "plan_id": row.plan_id,
            "officer_id": row.officer_id,
            "version": row.version,
            "completed": row.completed,
            "outcome": row.outcome,
            "evening": row.evening,
            "captured_at": row.captured_at,
            "received_at": row.received_at,
            "completed_at": row.completed_at,
            "occupants": [
                {
                    "room_no": o.room_no,
                    "id_number_masked": mask_id_number(self.cipher.decrypt(o.id_number_enc)),
                }
                for o in occupants
            ],
            "hazards": [
                {
                    "item": h.item,
                    "passed": h.passed,
                    "severity": h.severity,
                    "correct_by": h.correct_by,
                }
                for h in hazards
            ],
        }
