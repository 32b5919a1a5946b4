"""Sweeps (清查): plan one over grids and dates, record the buildings nobody registered,
follow coverage building -> household -> person, and close it with its figures."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.clock import Clock
from common.envelope import Trace
from common.errors import Conflict, DomainError, NotFound
from common.events import Event
from common.publisher import Publisher
from inspection.adapters import sweeps_repository as repo
from inspection.app.access import authorize_grid
from inspection.domain.sweeps import checked_plan, coverage
from inspection.events import (
    DiscoveredRoom,
    PropertyDiscovered,
    SweepCompleted,
    SweepStarted,
    VolunteersRequested,
)

RUNNING, COMPLETED = "running", "completed"
SHOWN = 200
"""At most this many of each list of what is still missing (the counts are complete)."""


@dataclass(frozen=True)
class PlanSweep:
    grid_ids: list[str]
    starts_on: date
    ends_on: date
    team: list[str]
    volunteers: int


@dataclass(frozen=True)
class Discover:
    sweep_id: str
    grid_id: str
    address: str
    rooms: list[tuple[str, int]]
    landlord_hint: str | None


@dataclass(frozen=True)
class Sweeps:
    publisher: Publisher
    clock: Clock

    async def plan(
        self, session: AsyncSession, cmd: PlanSweep, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        checked_plan(cmd.grid_ids, cmd.starts_on, cmd.ends_on, cmd.team)
        for grid_id in cmd.grid_ids:
            authorize_grid(principal, grid_id)
        now = self.clock.now()
        sweep_id = str(uuid.uuid4())
        buildings = await repo.buildings(session, cmd.grid_ids)
        await repo.add(
            session,
            sweep_id=sweep_id,
            grid_ids=cmd.grid_ids,
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            team=cmd.team,
            volunteers=cmd.volunteers,
            status=RUNNING,
            created_by=principal.sub,
            created_at=now,
        )
        events: list[Event] = [
            SweepStarted(
                sweep_id=sweep_id,
                grid_ids=cmd.grid_ids,
                starts_on=cmd.starts_on,
                ends_on=cmd.ends_on,
                team_size=len(cmd.team),
                buildings=len(buildings),
                started_at=now,
            )
        ]
        if cmd.volunteers:
            events.append(
                VolunteersRequested(
                    request_id=f"{sweep_id}:volunteers",
                    sweep_id=sweep_id,
                    grid_ids=cmd.grid_ids,
                    starts_on=cmd.starts_on,
                    ends_on=cmd.ends_on,
                    volunteers=cmd.volunteers,
                    task_kind="sweep_support",
                    requested_at=now,
                )
            )
        await self.publisher.stage(session, events, trace)
        return {"sweep_id": sweep_id, "buildings": len(buildings)}

    async def discover(
        self, session: AsyncSession, cmd: Discover, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        """A building not in the registry: registration registers it from the event."""
        sweep = await self._running(session, cmd.sweep_id, principal, only=cmd.grid_id)
        if cmd.grid_id not in sweep.grid_ids:
            raise DomainError("grid_id", "is not one of the sweep's grids")
        if not cmd.rooms:
            raise DomainError("rooms", "a rental building has at least one room")
        now = self.clock.now()
        discovery_id = str(uuid.uuid4())
        rooms = [{"room_no": no, "capacity_estimate": cap} for no, cap in cmd.rooms]
        await repo.add_discovery(
            session,
            discovery_id=discovery_id,
            sweep_id=cmd.sweep_id,
            grid_id=cmd.grid_id,
            address=cmd.address,
            rooms=rooms,
            landlord_hint=cmd.landlord_hint,
            officer=principal.sub,
            discovered_at=now,
        )
        event = PropertyDiscovered(
            discovery_id=discovery_id,
            sweep_id=cmd.sweep_id,
            grid_id=cmd.grid_id,
            address=cmd.address,
            rooms=[DiscoveredRoom(room_no=no, capacity_estimate=cap) for no, cap in cmd.rooms],
            landlord_hint=cmd.landlord_hint,
            discovered_at=now,
            officer=principal.sub,
        )
        await self.publisher.stage(session, [event], trace)
        return {"discovery_id": discovery_id}

    async def progress(
        self, session: AsyncSession, sweep_id: str, principal: Principal
    ) -> dict[str, Any]:
        sweep = await repo.load(session, sweep_id)
        if sweep is None:
            raise NotFound("sweep", sweep_id)
        for grid_id in sweep.grid_ids:
            authorize_grid(principal, grid_id)
        figures = await self._coverage(session, sweep)
        return {
            "sweep_id": sweep.sweep_id,
            "grid_ids": sweep.grid_ids,
            "starts_on": sweep.starts_on,
            "ends_on": sweep.ends_on,
            "status": sweep.status,
            "team": sweep.team,
            **figures,
        }

    async def complete(
        self, session: AsyncSession, sweep_id: str, principal: Principal, trace: Trace
    ) -> dict[str, Any]:
        sweep = await self._running(session, sweep_id, principal)
        figures = await self._coverage(session, sweep)
        now = self.clock.now()
        summary = {k: v for k, v in figures.items() if not k.startswith("missing")}
        await repo.complete(session, sweep_id, status=COMPLETED, completed_at=now, summary=summary)
        await self.publisher.stage(
            session,
            [
                SweepCompleted(
                    sweep_id=sweep_id,
                    grid_ids=sweep.grid_ids,
                    buildings=figures["buildings"],
                    buildings_covered=figures["buildings_visited"],
                    households=figures["households"],
                    households_covered=figures["households_entered"],
                    persons_declared=figures["persons_declared"],
                    persons_seen=figures["persons_seen"],
                    persons_met=figures["persons_met"],
                    persons_registered=figures["persons_registered"],
                    new_rentals_found=figures["new_rentals_found"],
                    completed_at=now,
                )
            ],
            trace,
        )
        return {"sweep_id": sweep_id, **summary}

    async def _running(
        self, session: AsyncSession, sweep_id: str, principal: Principal, only: str | None = None
    ) -> Any:
        """The running sweep, locked; the caller is staff of its grids (or of ``only``)."""
        sweep = await repo.lock(session, sweep_id)
        if sweep is None:
            raise NotFound("sweep", sweep_id)
        grids: list[str] = [only] if only is not None and only in sweep.grid_ids else sweep.grid_ids
        for grid_id in grids:
            authorize_grid(principal, grid_id)
        if sweep.status != RUNNING:
            raise Conflict(f"sweep {sweep_id} is {sweep.status}")
        return sweep

    async def _coverage(self, session: AsyncSession, sweep: Any) -> dict[str, Any]:
        buildings = await repo.buildings(session, sweep.grid_ids)
        visited, met = await repo.visited(session, sweep.sweep_id)
        found = coverage(buildings, visited)
        figures = dataclasses.asdict(found)
        return {
            **{k: v for k, v in figures.items() if isinstance(v, int)},
            "persons_met": met,
            "persons_registered": await repo.registered(session, sweep.sweep_id),
            "new_rentals_found": await repo.discoveries(session, sweep.sweep_id),
            "missing_buildings": found.missing_buildings[:SHOWN],
            "missing_households": [
                {"property_id": p, "room_no": r} for p, r in found.missing_households[:SHOWN]
            ],
            "unseen_persons": [
                {"property_id": p, "room_no": r, "declared_not_seen": n}
                for p, r, n in found.unseen_persons[:SHOWN]
            ],
        }
