"""Inspection's share of the demo district, through its HTTP API only.

For each grid and month: a spot-check plan (抽查) of a share of its buildings, and a
completed visit to each pick (三位一體) — a share of them in the evening shift, some with
occupants nobody declared (new identity numbers: registration registers them from
``OccupantFound``), some with failed hazard items; then every open verification task
(精準核查) of the grid verified, and one sweep (清查) per pair of grids that visits their
buildings and finds a few unregistered ones. The rates are parameters with the defaults
below, chosen for the seed's year at its scale (DOMAIN.md: 21 sweeps, 573 rental
households and 1,098 persons found in sweeps).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import httpx

from common.auth import mint_token
from common.identity import check_character

CHINA = timezone(timedelta(hours=8))
HAZARDS = ("fire_exit_blocked", "no_extinguisher", "exposed_wiring", "overcrowded_room")


@dataclass(frozen=True)
class Rates:
    planned_share: float = 0.1  # of a grid's buildings, per month
    evening_share: float = 0.3  # 錯時工作制
    undeclared_per_visit: float = 0.2  # occupants met that nobody declared
    hazard_fail: float = 0.06  # per checklist item
    discoveries_per_sweep: int = 2


@dataclass
class Stats:
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)


def month_days(month: str) -> list[date]:
    year, number = int(month[:4]), int(month[5:])
    first = date(year, number, 1)
    nxt = date(year + number // 12, number % 12 + 1, 1)
    return [first + timedelta(days=d) for d in range((nxt - first).days)]


class InspectionDistrict:
    def __init__(
        self, http: httpx.AsyncClient, secret: str, *, today: date, rng: random.Random,
        rates: Rates | None = None, log: Callable[[str], None] = print,
    ) -> None:  # fmt: skip
        self.http, self.secret, self.today, self.rng = http, secret, today, rng
        self.rates = rates or Rates()
        self.log = log
        self.stats = Stats()
        self._seq = 0

    def headers(self, grid: str | None, role: str = "officer") -> dict[str, str]:
        token = mint_token(
            self.secret, sub=f"{role}-{grid or 'office'}", role=role,
            grids=[grid] if grid else [], scopes=["inspection:write", "inspection:read"],
        )  # fmt: skip
        return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}

    async def call(self, what: str, method: str, url: str, headers: dict[str, str],
                   **kw: Any) -> httpx.Response | None:  # fmt: skip
        response = await self.http.request(method, url, headers=headers, **kw)
        if response.status_code >= 300:
            self.stats.errors[f"{what} {response.status_code}"] += 1
            self.stats.samples.append(f"{method} {url}: {response.text[:200]}")
            return None
        self.stats.counts[what] += 1
        return response

    def number(self) -> str:
        self._seq += 1
        born = f"{self.rng.randint(1970, 2004):04d}{self.rng.randint(1, 12):02d}"
        first17 = f"441900{born}{self.rng.randint(1, 28):02d}{self._seq % 1000:03d}"
        return first17 + check_character(first17)

    def moment(self, day: date) -> datetime:
        evening = self.rng.random() < self.rates.evening_share
        hour = self.rng.randint(18, 21) if evening else self.rng.randint(9, 16)
        local = datetime.combine(day, time(hour, self.rng.randint(0, 59)), CHINA)
        return min(local.astimezone(UTC), datetime.now(UTC) - timedelta(minutes=1))

    async def visit(self, grid: str, property_id: str, day: date, plan_id: str | None,
                    sweep_id: str | None = None) -> None:  # fmt: skip
        occupants = [
            {"room_no": "101", "id_number": self.number(), "full_name": "Demo Resident"}
            for _ in range(1 if self.rng.random() < self.rates.undeclared_per_visit else 0)
        ]
        hazards = [{"item": h, "passed": self.rng.random() >= self.rates.hazard_fail}
                   for h in HAZARDS]  # fmt: skip
        body = {"version": 1, "property_id": property_id, "plan_id": plan_id,
                "sweep_id": sweep_id, "captured_at": self.moment(day).isoformat(),
                "outcome": "visited", "completed": True, "occupants": occupants,
                "hazards": hazards, "rooms_entered": ["101"]}  # fmt: skip
        await self.call("visits", "PUT", f"/visits/{uuid.uuid4()}", self.headers(grid), json=body)

    async def grid_month(self, grid: str, month: str) -> None:
        days = [d for d in month_days(month) if d < self.today]
        if not days:
            return
        buildings = await self.http.get(
            f"/grids/{grid}/properties?limit=1", headers=self.headers(grid)
        )
        size = max(1, round(buildings.json()["total"] * self.rates.planned_share))
        plan = await self.call("plans", "POST", "/plans", self.headers(grid),
                               json={"grid_id": grid, "month": month, "size": size})  # fmt: skip
        if plan is None:
            return
        plan_id = plan.json()["plan_id"]
        picks = (await self.http.get(f"/plans/{plan_id}", headers=self.headers(grid))).json()
        await asyncio.gather(*(
            self.visit(grid, p["property_id"], self.rng.choice(days), plan_id)
            for p in picks["picks"]
        ))  # fmt: skip

    async def verify_tasks(self, grid: str) -> None:
        listing = await self.http.get(f"/tasks?grid_id={grid}", headers=self.headers(grid))
        outcomes = ("resides_here", "not_found", "visitor", "moved_away")
        for task in listing.json().get("tasks", []):
            outcome = self.rng.choice(outcomes)
            body: dict[str, Any] = {"outcome": outcome} | (
                {"room_no": "101"} if outcome == "resides_here" else {}
            )
            await self.call("verifications", "POST", f"/tasks/{task['lead_id']}/verification",
                            self.headers(grid), json=body)  # fmt: skip

    async def sweep(self, grids: list[str], property_ids: dict[str, list[str]]) -> None:
        starts = self.today - timedelta(days=2)
        planned = await self.call("sweeps", "POST", "/sweeps", self.headers(None, "admin"), json={
            "grid_ids": grids, "starts_on": starts.isoformat(),
            "ends_on": self.today.isoformat(), "team": ["officer-sweep"],
            "volunteers": 4})  # fmt: skip
        if planned is None:
            return
        sweep_id = planned.json()["sweep_id"]
        for grid in grids:
            for pid in property_ids.get(grid, []):
                await self.visit(grid, pid, starts, None, sweep_id)
            for n in range(self.rates.discoveries_per_sweep):
                await self.call("discoveries", "POST", f"/sweeps/{sweep_id}/discoveries",
                                self.headers(grid), json={
                    "grid_id": grid, "address": f"Unregistered building {n + 1}, {grid}",
                    "rooms": [{"room_no": "1F", "capacity_estimate": 4}]})  # fmt: skip
        done = f"/sweeps/{sweep_id}/complete"
        await self.call("sweeps completed", "POST", done, self.headers(None, "admin"))

    async def run(self, grids: list[str], months: list[str]) -> Stats:
        for month in months:
            await asyncio.gather(*(self.grid_month(g, month) for g in grids))
            self.log(f"inspection: {month} planned and visited in {len(grids)} grids")
        for grid in grids:
            await self.verify_tasks(grid)
        for i in range(0, len(grids) - 1, 2):
            buildings: dict[str, list[str]] = {}
            for grid in grids[i : i + 2]:  # a sweep visits every building (here: the first 3)
                listing = await self.http.get(f"/grids/{grid}/properties?limit=3",
                                              headers=self.headers(grid))  # fmt: skip
                buildings[grid] = [p["property_id"] for p in listing.json()["properties"]]
            await self.sweep(grids[i : i + 2], buildings)
        return self.stats


def last_months(today: date, n: int) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(n):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(months))
