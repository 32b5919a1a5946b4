"""Penalties' share of the demo district, through its HTTP API only.

Most cases open by themselves from the other districts' events (late declarations,
occupants found undeclared, hazards, missed returns, unregistered rentals found by
sweeps). This is the office's side: each grid's open orders are checked (most found
rectified, some not), a few decisions are appealed by their landlord and ruled on, and
an officer opens a case by hand now and then. The rates are parameters; the seed's year
(DOMAIN.md: 478 ordered to rectify, 498 penalised) is the office at full scale.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from common.auth import mint_token

SCOPES = ["penalties:write", "penalties:read"]


@dataclass(frozen=True)
class Rates:
    rectified: float = 0.8  # of the open orders an officer checks
    refuted: float = 0.1  # checked and found not rectified (escalates once overdue)
    appealed: float = 0.05  # of the cases, by their landlord
    upheld: float = 0.3  # of the appeals
    by_hand_per_grid: int = 1  # cases an officer opens in person


@dataclass
class Stats:
    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)


class PenaltiesDistrict:
    def __init__(
        self, http: httpx.AsyncClient, secret: str, *, today: date, rng: random.Random,
        rates: Rates | None = None,
    ) -> None:  # fmt: skip
        self.http, self.secret, self.today, self.rng = http, secret, today, rng
        self.rates = rates or Rates()
        self.stats = Stats()

    def headers(self, grid: str | None = None, *, role: str = "officer",
                party_id: str | None = None) -> dict[str, str]:  # fmt: skip
        token = mint_token(
            self.secret, sub=f"{role}-{grid or party_id or 'office'}", role=role,
            grids=[grid] if grid else None, party_id=party_id, scopes=SCOPES,
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

    async def check_orders(self, grid: str) -> None:
        listing = await self.call("order lists", "GET", f"/orders?grid_id={grid}",
                                  self.headers(grid))  # fmt: skip
        for order in listing.json()["orders"] if listing else []:
            draw = self.rng.random()
            if draw >= self.rates.rectified + self.rates.refuted:
                continue  # not checked yet: stays open, escalates at its deadline
            verdict = {"rectified": draw < self.rates.rectified}
            await self.call("order checks", "POST", f"/orders/{order['order_id']}/checks",
                            self.headers(grid), json=verdict)  # fmt: skip

    async def appeals(self, grid: str, cases: list[dict[str, Any]]) -> None:
        for case in cases:
            if self.rng.random() >= self.rates.appealed or not case["party_id"]:
                continue
            party = self.headers(role=case["party_kind"], party_id=case["party_id"])
            detail = await self.call("case reads", "GET", f"/cases/{case['case_id']}", party)
            decisions = detail.json()["decisions"] if detail else []
            if not decisions:
                continue
            lodged = await self.call(
                "appeals", "POST", f"/cases/{case['case_id']}/appeals", party,
                json={"decision_id": decisions[0]["decision_id"],
                      "grounds": "The occupant was declared the same week; see the receipt"},
            )  # fmt: skip
            if lodged is None:
                continue
            upheld = self.rng.random() < self.rates.upheld
            reason = "Declared in time on review" if upheld else "The deadline had passed"
            ruling = f"/appeals/{lodged.json()['appeal_id']}/ruling"
            await self.call("rulings", "POST", ruling, self.headers(grid),
                            json={"upheld": upheld, "reason": reason})  # fmt: skip

    async def by_hand(self, grid: str, cases: list[dict[str, Any]]) -> None:
        properties = sorted({c["property_id"] for c in cases if c["property_id"]})
        for _ in range(min(self.rates.by_hand_per_grid, len(properties))):
            day = self.today - timedelta(days=self.rng.randint(0, 20))
            await self.call(
                "cases by hand", "POST", "/cases", self.headers(grid),
                json={"breach": "undeclared_occupant", "party_kind": "landlord",
                      "property_id": self.rng.choice(properties), "occurred_on": day.isoformat(),
                      "note": "Two tenants met on an evening patrol, not declared"},
            )  # fmt: skip

    async def run(self, grids: list[str]) -> Stats:
        for grid in grids:
            listing = await self.call("case lists", "GET", f"/cases?grid_id={grid}&limit=1000",
                                      self.headers(grid))  # fmt: skip
            cases = listing.json()["cases"] if listing else []
            await self.check_orders(grid)
            await self.appeals(grid, cases)
            await self.by_hand(grid, cases)
        return self.stats
