"""Generate the office's demo district through the public HTTP API.

At ``scale`` 1.0 this is the community of DOMAIN.md over half a year (``PERIOD_DAYS``):

* 2,247 rental buildings with 42,052 rooms (capacities 1-6) in 24 grids; grids scale with
  the square root of ``scale`` (an area), everything else linearly.
* Landlords letting one to a few buildings: about 80% are private persons - villagers
  letting their own houses, as most landlords of urban-village rentals are -, the rest
  organisations: individual businesses (个体工商户, 92…) and a few letting companies (91…).
  The office registers each villager at the counter (``POST /parties`` by identity number,
  name and phone, with an officer token of their grid): their person record is made as a
  declaration would make it and the party id is their ``person_ref``, which their own
  landlord token then carries. A quarter of the buildings have a manager who declares for
  the landlord: a sublessor (二房東) who lives in the building and is registered as a
  *person* party by the ``person_ref`` of their residence, or, for the largest buildings,
  a property company (物業, an organisation).
* 67,880 move-in declarations (person-times, 人次): each person's first move-in, spread
  over the period, plus the moves to another building of the district. The
  self-declaration rate rises from 81.6% to 93.6% over the period; a self-declaration
  comes from the landlord, from the building's manager, or - for a share of the moves -
  from the person themself (莞e申報, channel person); officers declare the rest.
* History is brought over, not declared again: a move-in the office had on its books
  before today (declared a day or two after it, or - ``LATE_SHARE`` of them - weeks
  later) is posted by the admin with ``migrated`` (the day it was declared and its
  channel), so registration counts it on that day and month, on time or late by that
  day, and penalties opens no case for a breach the old records already dealt with.
  Only what is declared today goes through the live path, by its declarer.
* Churn (see the constants): move-outs (declared by the landlord, the manager or an
  officer), moves elsewhere (a move-in elsewhere ends the previous residence in the same
  transaction), leaves from employers.
* 5,800 employers (91…): those with many hires upload CSV rosters, the others declare each
  hire one by one; leaves likewise (a second roster, or ``…/employments/{id}/end``).
* About 8,047 responsibility agreements (landlords - or their manager -, tenants,
  employers; a realistic share of subjects has none): one-year, signed over the past
  year; those about to expire renewed, those of tenants who left revoked.

Every request carries a fresh ``Idempotency-Key`` (kept on retries of that request), over
one ``httpx.AsyncClient`` (keep-alive, ``concurrency`` connections). Tokens are minted with
the service's JWT secret and re-minted before they expire: admin for grids, role landlord
per landlord or manager party (a person landlord's once the office has registered them:
the generator has no PII key to derive the ref from the identity number), officer per
grid, employer per employer, person per person declaring themself. Everything is derived
from ``seed``; the summary reports what was created, per phase the requests and seconds,
the request rate and the errors.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import httpx

from common import identity
from common.auth import mint_token
from registration.domain import credit_code
from registration.domain.policy import CHINA_TIME

T = TypeVar("T")

COMMUNITY = "Wentang"
OFFICE = "Wentang community police office"
GRIDS = 24
BUILDINGS = 2_247
ROOMS = 42_052
DECLARATIONS = 67_880  # move-ins, person-times: first move-ins and moves elsewhere
EMPLOYERS = 5_800
AGREEMENTS = 8_047  # signed (renewals come on top)
RATE_FROM, RATE_TO = 0.816, 0.936  # self-declaration rate at the start / end of the period
PERIOD_DAYS = 182
# How long after a move-in the office had its declaration. No figure of DOMAIN.md says how
# many were late: 5% is an assumption. On time is within a day or two (inside any 3
# working days); late is two to six weeks after, past any deadline with holidays.
LATE_SHARE = 0.05
ON_TIME_LAG_DAYS = (0, 2)
LATE_LAG_DAYS = (14, 42)
CHANNELS = {  # a migrated declaration's channel, by its declarer
    "landlord": "landlord_self_declaration",
    "manager": "landlord_self_declaration",
    "person": "person_self_declaration",
    "officer": "officer",
}
MIGRATED_HOUR = 10  # in the office's time: its working morning
# In-flight requests. Measured on 2 cores with Kafka and PostgreSQL: the service - one
# process, 11-17 ms of CPU a request - is the bottleneck; the generator takes ~0.3-0.5 core.
# The full district (scale 1) ran at 76 requests/s (move-ins 75/s) in 24.5 min. 32 keeps the
# service busy through the short phases (16 gave ~10% less); 64 was slower, costing the
# client more CPU (httpx scans its connection pool on every request).
DEFAULT_CONCURRENCY = 32
MAX_ERROR_SHARE = 0.01
TOKEN_REFRESH_S = 1_800  # tokens live an hour; a full-scale run takes longer

# -- landlords and managers -----------------------------------------------------------------
LANDLORDS_PER_BUILDING = 0.7  # most landlords let one building, some several
LANDLORD_PERSON_SHARE = 0.8  # of landlords: villagers letting their own houses
LANDLORD_COMPANY_SHARE = 0.25  # of organisation landlords: letting companies; the rest
# individual businesses
# Villagers are locals (Dongguan has no county-level districts: one region code) and older
# than the migrant tenants: they own the houses.
LANDLORD_REGIONS = ("441900",)
LANDLORD_BORN = (date(1945, 1, 1), date(1985, 12, 31))
# DOMAIN.md counts 264 rental-house managers among the volunteer police alone, so managers
# are common: a quarter of the buildings (~560 at full scale) have one. Sublessors lease
# whole buildings and live in them; property companies run the biggest (apartment blocks).
MANAGED_SHARE = 0.25
SUBLESSOR_SHARE = 0.8  # of managed buildings; the rest are run by property companies
BUILDINGS_PER_PROPERTY_COMPANY = 5

# -- churn over the half-year -----------------------------------------------------------------
# Migrant tenancies are short: with a mean stay of about 9 months, a person who moved in at
# a uniform time of the period has left that room by its end with probability ~27%.
# Two thirds of those leave the district (a move-out), one third moves to another building
# of it (a move-in elsewhere). Moves are person-declarations too, so DECLARATIONS is split
# into first move-ins and moves.
MOVE_OUT_SHARE = 0.18  # of the persons
MOVE_ELSEWHERE_SHARE = 0.09  # of the persons
PERSON_SELF_SHARE = 0.3  # of self-declared moves: by the person (莞e申報), not the landlord
HIRED_SHARE = 0.55  # of the declared persons, hired by some employer of the district
# Factory turnover in Dongguan runs at 5-10% a month: about 28% of the hires of the period
# leave by its end. Nearly everyone who leaves the district leaves their job; of the
# others some change jobs (a leave; the new job may be outside the district).
LEAVE_WITH_MOVE_OUT_SHARE = 0.9
LEAVE_SHARE = 0.12  # of the hires of persons who stay
ROSTER_MIN_HIRES = 5  # employers with fewer hires declare them one by one
HIRE_DELAY_DAYS = 14  # a hire follows the move-in within two weeks

# -- agreements ----------------------------------------------------------------------------------
LANDLORD_AGREEMENT_SHARE = 0.85  # of buildings; employers 0.80, tenants: the remainder
EMPLOYER_AGREEMENT_SHARE = 0.80
AGREEMENT_DAYS = 365  # responsibility agreements are signed for a year (一年一簽)
RENEW_WINDOW_DAYS = 30  # the office renews agreements that expire within a month ...
RENEW_SHARE = 0.8  # ... most of them by now; the others will lapse unless renewed later
# Tenant agreements of tenants who moved (out or elsewhere) are revoked, all of them.

# Region codes (county level) of the provinces migrants to Dongguan mostly come from.
REGIONS = (
    "441900", "440306", "440105", "450102", "450305", "430102", "430421", "431002",
    "360102", "360421", "420102", "420621", "410102", "411302", "510104", "511302",
    "520102", "522401", "500101", "500235", "350102", "340102", "342401", "370102",
    "530102", "610102", "130102", "460105", "220102", "230102",
)  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文辉玲燕鹏飞宇浩晨欣怡俊红梅兰海波"
CSV_HEADER = "action,id_number,name,phone,date\n"


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    phone: str


@dataclass(eq=False)
class Landlord:
    """A private person (party id: their ``person_ref``, known once registered) or an
    organisation (party id: its credit code)."""

    kind: str  # person | individual_business | company
    grid_id: str  # of their first building: the office that registers a person
    person: Person | None = None
    credit_code: str | None = None
    party_id: str | None = None


@dataclass(eq=False)
class Building:
    grid_id: str
    landlord: Landlord
    address: str
    rooms: list[tuple[str, int]]
    property_id: str | None = None
    manager_id: str | None = None
    manager_kind: str | None = None  # sublessor | property_company

    @property
    def landlord_id(self) -> str:
        return self.landlord.party_id or ""


@dataclass(eq=False)
class Stay:
    """A person's residence: planned, then declared (ids filled in)."""

    person: Person
    building: Building
    room_no: str
    moved_in: date
    declarer: str  # landlord | manager | person | officer
    residence_id: str | None = None
    person_ref: str | None = None
    moves: Move | None = None


@dataclass(eq=False)
class Move:
    """A move-out (``to`` is None) or a move to another building of the district."""

    day: date
    declarer: str
    to: Building | None = None
    room_no: str = ""


@dataclass(eq=False)
class Hire:
    stay: Stay
    employer: int
    hired_on: date
    left_on: date | None = None
    employment_id: str | None = None


@dataclass(eq=False)
class Agreement:
    kind: str
    grid_id: str
    body: dict[str, Any]
    signed_on: date
    tenant: Stay | None = None
    agreement_id: str | None = None


@dataclass
class Phase:
    name: str
    requests: int
    seconds: float


@dataclass
class Stats:
    created: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    property_ids: list[str] = field(default_factory=list)
    declared: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Move-ins made, by the month they were declared in (``YYYY-MM``) and declarer."""
    requests: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def failed_requests(self) -> int:
        """Requests that failed for good (rejected roster lines are not requests)."""
        return self.error_count - self.errors["roster_lines"]


def plus(day: date, days: int) -> date:
    return day + timedelta(days=days)


class Generator:
    def __init__(
        self,
        client: httpx.AsyncClient,
        jwt_secret: str,
        *,
        scale: float = 1.0,
        seed: int = 1,
        concurrency: int = DEFAULT_CONCURRENCY,
        today: date | None = None,
        community: str = COMMUNITY,
        log: Callable[[str], None] = print,
    ) -> None:
        self.http = client
        self.secret = jwt_secret
        self.scale = scale
        self.rng = random.Random(seed)
        # Declaration lags draw from their own stream: the district's other draws stay
        # what they were before history was migrated.
        self.lag_rng = random.Random(seed + 1)
        self.sem = asyncio.Semaphore(concurrency)
        # The service checks move-in dates against its UTC day and agreements against
        # China's (later or equal): the UTC day is never in the future for either.
        self.today = today or datetime.now(UTC).date()
        self.community = community
        self.log = log
        self.stats = Stats()
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self.prefix = f"{community[:2].upper()}{seed:02d}"  # grid ids: one district per seed
        self._numbers: set[str] = set()  # identity numbers given out: landlords and tenants

    # -- plumbing -------------------------------------------------------------------------
    def token(self, role: str, ident: str) -> str:
        """One token per (role, party or grid), re-minted after ``TOKEN_REFRESH_S``."""
        cached = self._tokens.get((role, ident))
        now = time.monotonic()
        if cached is not None and now - cached[1] < TOKEN_REFRESH_S:
            return cached[0]
        scopes = ["registration:write", "registration:read"]
        if role == "officer":
            token = mint_token(
                self.secret, sub=f"officer-{ident}", role=role, grids=[ident], scopes=scopes
            )
        elif role == "admin":
            token = mint_token(self.secret, sub="district-admin", role=role, scopes=scopes)
        else:
            token = mint_token(
                self.secret, sub=f"{role}-{ident}", role=role, party_id=ident, scopes=scopes
            )
        self._tokens[(role, ident)] = (token, now)
        return token

    async def call(
        self, kind: str, method: str, path: str, token: str, **kw: Any
    ) -> dict[str, Any] | None:
        """One command; ``kind`` counts it as created (or as an error). None if it failed."""
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            **kw.pop("headers", {}),
        }
        async with self.sem:
            for attempt in range(4):
                self.stats.requests += 1
                try:
                    response = await self.http.request(method, path, headers=headers, **kw)
                except httpx.TransportError as exc:
                    failure = f"{kind}: {type(exc).__name__}"
                else:
                    if response.status_code < 300:
                        self.stats.created[kind] += 1
                        result: dict[str, Any] = response.json()
                        return result
                    failure = f"{kind}: {response.status_code} {response.text[:200]}"
                    if response.status_code < 500 and response.status_code != 429:
                        break
                await asyncio.sleep(0.2 * 2**attempt)  # same key: a retry changes nothing
        self.stats.errors[kind] += 1
        if len(self.stats.samples) < 10:
            self.stats.samples.append(failure)
        return None

    async def phase(self, name: str, calls: Sequence[Awaitable[T]]) -> list[T]:
        """Run the calls concurrently (bounded by the semaphore), logging progress."""
        started, requests = time.perf_counter(), self.stats.requests
        total, done = len(calls), 0
        step = max(1, total // 10)
        self.log(f"{name}: {total}")

        async def tracked(coro: Awaitable[T]) -> T:
            nonlocal done
            result = await coro
            done += 1
            if done % step == 0 or done == total:
                self.log(f"  {name}: {done}/{total} ({time.perf_counter() - started:.1f} s)")
            return result

        results = list(await asyncio.gather(*(tracked(c) for c in calls)))
        self.stats.phases.append(
            Phase(name, self.stats.requests - requests, time.perf_counter() - started)
        )
        return results

    def count(self, figure: int) -> int:
        return max(1, round(figure * self.scale))

    def day_between(self, first: date, last: date) -> date:
        return plus(first, self.rng.randint(0, max(0, (last - first).days)))

    # -- data -----------------------------------------------------------------------------
    def credit_code(self, department_type: str, seq: int) -> str:
        body = "".join(credit_code.CHARSET[self.rng.randrange(31)] for _ in range(8))
        first17 = f"{department_type}441900{body}{credit_code.CHARSET[seq % 31]}"[:17]
        return credit_code.with_check_character(first17)

    def people(
        self,
        n: int,
        *,
        regions: Sequence[str] = REGIONS,
        born: tuple[date, date] = (date(1960, 1, 1), date(2005, 12, 31)),
    ) -> list[Person]:
        """``n`` persons with valid identity numbers, none given out before by this run."""
        result: list[Person] = []
        first_birthday, span = born[0], (born[1] - born[0]).days
        while len(result) < n:
            birthday = first_birthday + timedelta(days=self.rng.randrange(span + 1))
            first17 = f"{self.rng.choice(regions)}{birthday:%Y%m%d}{self.rng.randrange(1000):03d}"
            number = first17 + identity.check_character(first17)
            if number in self._numbers:
                continue
            self._numbers.add(number)
            name = self.rng.choice(SURNAMES) + "".join(
                self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
            )
            phone = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            result.append(Person(number, name, phone))
        return result

    def self_declared(self, day: date) -> bool:
        """Whether a declaration about ``day`` is a self-declaration (rate of that day)."""
        progress = min(1.0, max(0.0, 1 - (self.today - day).days / PERIOD_DAYS))
        return self.rng.random() < RATE_FROM + (RATE_TO - RATE_FROM) * progress

    def declarer(self, building: Building, day: date, *, person_may: bool = False) -> str:
        if not self.self_declared(day):
            return "officer"
        if person_may and self.rng.random() < PERSON_SELF_SHARE:
            return "person"
        return "manager" if building.manager_id else "landlord"

    def declarer_token(self, declarer: str, building: Building, person_ref: str | None) -> str:
        if declarer == "officer":
            return self.token("officer", building.grid_id)
        if declarer == "person":
            return self.token("person", person_ref or "")
        if declarer == "manager" and building.manager_id:
            return self.token("landlord", building.manager_id)
        return self.token("landlord", building.landlord_id)

    def declared_on(self, moved_in: date) -> date:
        """The day the office had the declaration of a move-in on ``moved_in``."""
        rng = self.lag_rng
        lo, hi = LATE_LAG_DAYS if rng.random() < LATE_SHARE else ON_TIME_LAG_DAYS
        return min(plus(moved_in, rng.randint(lo, hi)), self.today)

    def move_in(
        self, kind: str, stay: Stay, building: Building, day: date
    ) -> Awaitable[dict[str, Any] | None]:
        """A move-in, declared today by its declarer or brought over from the records."""
        declared_on = self.declared_on(day)
        body: dict[str, Any] = {
            "id_number": stay.person.id_number,
            "name": stay.person.name,
            "phone": stay.person.phone,
            "room_no": stay.room_no,
            "moved_in_on": day.isoformat(),
        }
        if declared_on < self.today:
            token = self.token("admin", "")
            declared_at = datetime(
                declared_on.year,
                declared_on.month,
                declared_on.day,
                MIGRATED_HOUR,
                tzinfo=CHINA_TIME,
            )
            body["migrated"] = {
                "declared_at": declared_at.isoformat(),
                "channel": CHANNELS[stay.declarer],
            }
        else:
            token = self.declarer_token(stay.declarer, building, stay.person_ref)
        month = f"{declared_on:%Y-%m}"

        async def declare() -> dict[str, Any] | None:
            made = await self.call(
                kind, "POST", f"/properties/{building.property_id}/residences", token, json=body
            )
            if made:
                self.stats.declared[month, stay.declarer] += 1
                self.stats.created["move_ins.migrated"] += "migrated" in body
            return made

        return declare()

    def officer_call(
        self, kind: str, path: str, grid_id: str, body: dict[str, Any]
    ) -> Awaitable[dict[str, Any] | None]:
        return self.call(kind, "POST", path, self.token("officer", grid_id), json=body)

    # -- the district ---------------------------------------------------------------------
    async def run(self) -> Stats:
        grids = await self.grids()
        buildings = await self.buildings(grids)
        n_decl = self.count(DECLARATIONS)
        n_persons = max(1, round(n_decl / (1 + MOVE_ELSEWHERE_SHARE)))
        persons = self.people(n_persons)
        sublessors = await self.managers(buildings, persons)
        stays = await self.move_ins(buildings, persons[len(sublessors) :])
        self.plan_churn(buildings, stays, n_moves=n_decl - n_persons)
        employers = await self.employers(grids)
        hires = await self.hires(employers, stays)
        agreements = await self.agreements(buildings, employers, stays)
        await self.churn(stays)
        await self.leaves(employers, hires)
        await self.follow_up(agreements)
        return self.stats

    async def grids(self) -> list[str]:
        grids = grid_ids(self.scale, prefix=self.prefix)
        admin = self.token("admin", "")
        await self.phase(
            "grids",
            [
                self.call(
                    "grids",
                    "POST",
                    "/grids",
                    admin,
                    json={
                        "grid_id": g,
                        "name": f"{self.community} grid {g[-2:]}",
                        "community": self.community,
                        "grid_worker": f"worker-{g}",
                    },
                )
                for g in grids
            ],
        )
        return grids

    def landlords(self, grids: list[str], n_landlords: int) -> list[Landlord]:
        """Persons (villagers) first, then letting companies and individual businesses."""
        n_persons = round(n_landlords * LANDLORD_PERSON_SHARE)
        n_companies = round((n_landlords - n_persons) * LANDLORD_COMPANY_SHARE)
        villagers = self.people(n_persons, regions=LANDLORD_REGIONS, born=LANDLORD_BORN)
        landlords: list[Landlord] = []
        for i in range(n_landlords):
            grid = grids[i % len(grids)]  # landlord i owns building i (and maybe others)
            if i < n_persons:
                landlords.append(Landlord("person", grid, person=villagers[i]))
                continue
            company = i - n_persons < n_companies
            code = self.credit_code("91" if company else "92", i)
            kind = "company" if company else "individual_business"
            landlords.append(Landlord(kind, grid, credit_code=code, party_id=code))
        return landlords

    def register_landlord(self, landlord: Landlord, n: int) -> Awaitable[dict[str, Any] | None]:
        """A villager at the counter of their grid's office; an organisation by itself."""
        kind = f"landlords.{landlord.kind}"
        if landlord.person is not None:
            p = landlord.person
            return self.officer_call(
                kind,
                "/parties",
                landlord.grid_id,
                {"kind": "person", "id_number": p.id_number, "name": p.name, "phone": p.phone},
            )
        code = landlord.credit_code or ""
        return self.call(
            kind,
            "POST",
            "/parties",
            self.token("landlord", code),
            json={"kind": "organisation", "credit_code": code, "name": f"房东{n}"},
        )

    async def buildings(self, grids: list[str]) -> list[Building]:
        """Landlord and property-company parties, then the buildings with their rooms."""
        rng = self.rng
        n_props, n_rooms = self.count(BUILDINGS), max(self.count(ROOMS), self.count(BUILDINGS))
        n_landlords = max(1, round(n_props * LANDLORDS_PER_BUILDING))
        landlords = self.landlords(grids, n_landlords)
        # Rooms: one each, the rest spread over the buildings with lognormal sizes.
        sizes = [1] * n_props
        weights = [rng.lognormvariate(2.5, 0.8) for _ in range(n_props)]
        for i in rng.choices(range(n_props), weights=weights, k=n_rooms - n_props):
            sizes[i] += 1
        buildings = [
            Building(
                grid_id=grids[i % len(grids)],
                landlord=landlords[i] if i < n_landlords else rng.choice(landlords),
                address=f"{self.community} Village, Lane {i // 20 + 1}, No. {i % 20 + 1}",
                rooms=[(f"{r // 10 + 1}{r % 10 + 1:02d}", rng.randint(1, 6)) for r in range(size)],
            )
            for i, size in enumerate(sizes)
        ]
        # Managers: the biggest of the managed buildings go to property companies.
        managed = sorted(
            rng.sample(buildings, round(n_props * MANAGED_SHARE)), key=lambda b: -len(b.rooms)
        )
        n_company_managed = round(len(managed) * (1 - SUBLESSOR_SHARE))
        companies = [
            self.credit_code("91", 7 + i)
            for i in range(math.ceil(n_company_managed / BUILDINGS_PER_PROPERTY_COMPANY))
        ]
        for i, b in enumerate(managed):
            if i < n_company_managed:
                b.manager_id, b.manager_kind = companies[i % len(companies)], "property_company"
            else:
                b.manager_kind = "sublessor"  # the party id once their residence is declared
        registered = await self.phase(
            "parties",
            [self.register_landlord(landlord, i + 1) for i, landlord in enumerate(landlords)]
            + [
                self.call(
                    "managers.party.organisation",
                    "POST",
                    "/parties",
                    self.token("landlord", code),
                    json={"kind": "organisation", "credit_code": code, "name": f"物业{i + 1}"},
                )
                for i, code in enumerate(companies)
            ],
        )
        for landlord, r in zip(landlords, registered, strict=False):
            if landlord.person is not None:
                landlord.party_id = r["party_id"] if r else None
        buildings = [b for b in buildings if b.landlord.party_id]  # unregistered: no buildings
        created = await self.phase(
            "properties",
            [
                self.call(
                    "buildings",
                    "POST",
                    "/properties",
                    self.token("landlord", b.landlord_id),
                    json={
                        "address": b.address,
                        "grid_id": b.grid_id,
                        "landlord_id": b.landlord_id,
                        "rooms": [{"room_no": r, "capacity": c} for r, c in b.rooms],
                    },
                )
                for b in buildings
            ],
        )
        lets: list[Building] = []
        for b, r in zip(buildings, created, strict=True):
            if r:
                b.property_id = r["property_id"]
                lets.append(b)
                self.stats.created["rooms"] += len(b.rooms)
        self.stats.property_ids = [b.property_id for b in lets if b.property_id]
        return lets

    async def managers(self, buildings: list[Building], persons: list[Person]) -> list[Stay]:
        """Sublessors move in (declared by the landlord), register as parties; mandates."""
        rng = self.rng
        subleased = [b for b in buildings if b.manager_kind == "sublessor"]
        stays = [
            Stay(
                person,
                b,
                b.rooms[0][0],
                plus(self.today, -rng.randint(PERIOD_DAYS, 3 * 365)),  # before the period
                "landlord",
            )
            for b, person in zip(subleased, persons, strict=False)
        ]
        results = await self.phase(
            "sublessors",
            [self.move_in("move_ins.landlord", s, s.building, s.moved_in) for s in stays],
        )
        for s, r in zip(stays, results, strict=True):
            if r:
                s.residence_id, s.person_ref = r["residence_id"], r["person_ref"]
                self.stats.created["persons"] += 1
        declared = [s for s in stays if s.person_ref]
        parties = await self.phase(
            "manager parties",
            [
                self.call(
                    "managers.party.person",
                    "POST",
                    "/parties",
                    self.token("landlord", s.person_ref or ""),
                    json={"kind": "person", "person_ref": s.person_ref},
                )
                for s in declared
            ],
        )
        for s, r in zip(declared, parties, strict=True):
            if r:
                s.building.manager_id = s.person_ref
        managed = [b for b in buildings if b.manager_id]
        mandates = await self.phase(
            "mandates",
            [
                self.call(
                    f"managers.{b.manager_kind}",
                    "POST",
                    f"/properties/{b.property_id}/managers",
                    self.token("landlord", b.landlord_id),
                    json={"party_id": b.manager_id, "kind": b.manager_kind},
                )
                for b in managed
            ],
        )
        for b, r in zip(managed, mandates, strict=True):
            if not r:
                b.manager_id = None  # the landlord declares after all
        for b in buildings:
            if b.manager_id is None:
                b.manager_kind = None
        return stays

    async def move_ins(self, buildings: list[Building], persons: list[Person]) -> list[Stay]:
        """Each person's first move-in, on a day of the period."""
        rng = self.rng
        slots = [(b, room) for b in buildings for room, _ in b.rooms]
        stays: list[Stay] = []
        for person in persons:
            b, room_no = rng.choice(slots)
            day = plus(self.today, -rng.randrange(PERIOD_DAYS))
            stays.append(Stay(person, b, room_no, day, self.declarer(b, day)))
        results = await self.phase(
            "move-ins",
            [self.move_in(f"move_ins.{s.declarer}", s, s.building, s.moved_in) for s in stays],
        )
        for s, r in zip(stays, results, strict=True):
            if r:
                s.residence_id, s.person_ref = r["residence_id"], r["person_ref"]
                self.stats.created["persons"] += 1
        return [s for s in stays if s.residence_id]

    def plan_churn(self, buildings: list[Building], stays: list[Stay], *, n_moves: int) -> None:
        """Who moves out or elsewhere, when, and who declares it (before anything is signed)."""
        rng = self.rng
        movable = [s for s in stays if s.moved_in < self.today]
        n_out = min(len(movable), round(len(stays) * MOVE_OUT_SHARE))
        n_moves = min(len(movable) - n_out, n_moves) if len(buildings) > 1 else 0
        for i, s in enumerate(rng.sample(movable, n_out + n_moves)):
            day = self.day_between(plus(s.moved_in, 1), self.today)
            if i < n_out:
                s.moves = Move(day, self.declarer(s.building, day))
                continue
            to = rng.choice([b for b in buildings if b is not s.building])
            s.moves = Move(
                day, self.declarer(to, day, person_may=True), to, rng.choice(to.rooms)[0]
            )

    async def employers(self, grids: list[str]) -> list[tuple[dict[str, Any], str]]:
        """Employers (factories, enterprises, shops: 91…) register themselves."""
        employers = [
            {
                "credit_code": self.credit_code("91", i),
                "name": f"{self.community} Enterprise {i + 1}",
                "grid_id": grids[i % len(grids)],
                "address": f"{i + 1} Industrial Road, {self.community}",
            }
            for i in range(self.count(EMPLOYERS))
        ]
        created = await self.phase(
            "employers",
            [
                self.call(
                    "employers",
                    "POST",
                    "/employers",
                    self.token("employer", e["credit_code"]),
                    json=e,
                )
                for e in employers
            ],
        )
        return [(e, r["employer_id"]) for e, r in zip(employers, created, strict=True) if r]

    async def hires(
        self, employers: list[tuple[dict[str, Any], str]], stays: list[Stay]
    ) -> list[Hire]:
        """A share of the residents hired, employers sized by a Pareto law; leaves planned."""
        rng = self.rng
        if not employers:
            return []
        weights = [rng.paretovariate(1.2) for _ in employers]
        chosen = rng.sample(stays, round(len(stays) * HIRED_SHARE))
        picks = rng.choices(range(len(employers)), weights=weights, k=len(chosen))
        hires = []
        for s, e in zip(chosen, picks, strict=True):
            gone = s.moves.day if s.moves and s.moves.to is None else self.today
            hired_on = min(plus(s.moved_in, rng.randint(0, HIRE_DELAY_DAYS)), gone)
            hire = Hire(s, e, hired_on)
            if s.moves and s.moves.to is None:
                if rng.random() < LEAVE_WITH_MOVE_OUT_SHARE:
                    hire.left_on = max(hired_on, plus(gone, -rng.randint(0, 3)))
            elif rng.random() < LEAVE_SHARE:
                hire.left_on = self.day_between(hired_on, self.today)
            hires.append(hire)
        by_employer: dict[int, list[Hire]] = {}
        for h in hires:
            by_employer.setdefault(h.employer, []).append(h)
        rosters = {e: hs for e, hs in by_employer.items() if len(hs) >= ROSTER_MIN_HIRES}
        singles = [h for e, hs in by_employer.items() if e not in rosters for h in hs]

        def line(h: Hire) -> str:
            p = h.stay.person
            return f"hire,{p.id_number},{p.name},{p.phone},{h.hired_on.isoformat()}"

        reports = await self.phase(
            "rosters",
            [
                self.roster("hires", employers[e], [line(h) for h in hs])
                for e, hs in sorted(rosters.items())
            ],
        )
        self.stats.created["hires.roster"] += sum(int(r.get("hires", 0)) for r in reports if r)
        results = await self.phase(
            "hires",
            [
                self.call(
                    "hires.single",
                    "POST",
                    f"/employers/{employers[h.employer][1]}/employments",
                    self.token("employer", employers[h.employer][0]["credit_code"]),
                    json={
                        "id_number": h.stay.person.id_number,
                        "name": h.stay.person.name,
                        "phone": h.stay.person.phone,
                        "hired_on": h.hired_on.isoformat(),
                    },
                )
                for h in singles
            ],
        )
        for h, r in zip(singles, results, strict=True):
            h.employment_id = r["employment_id"] if r else None
        return [h for e, hs in sorted(rosters.items()) for h in hs] + [
            h for h in singles if h.employment_id
        ]

    def roster(
        self, what: str, employer: tuple[dict[str, Any], str], lines: list[str]
    ) -> Awaitable[dict[str, Any] | None]:
        return self.call(
            f"roster_uploads.{what}",
            "POST",
            f"/employers/{employer[1]}/roster",
            self.token("employer", employer[0]["credit_code"]),
            content=(CSV_HEADER + "\n".join(lines) + "\n").encode(),
            headers={"Content-Type": "text/csv"},
        )

    async def agreements(
        self,
        buildings: list[Building],
        employers: list[tuple[dict[str, Any], str]],
        stays: list[Stay],
    ) -> list[Agreement]:
        """Landlords (or their manager) and employers, tenants make up the rest of the total."""
        rng = self.rng
        n_agreements = self.count(AGREEMENTS)
        landlord_subjects = rng.sample(buildings, round(len(buildings) * LANDLORD_AGREEMENT_SHARE))
        employer_subjects = rng.sample(employers, round(len(employers) * EMPLOYER_AGREEMENT_SHARE))
        n_tenants = max(0, n_agreements - len(landlord_subjects) - len(employer_subjects))
        tenants = rng.sample(stays, min(n_tenants, len(stays)))

        def within_year() -> date:
            # Still in force tomorrow: in the evening (UTC) China's day is already the
            # next one, and an agreement that ended yesterday there has passed.
            return plus(self.today, -rng.randrange(AGREEMENT_DAYS - 1))

        plans = [
            Agreement(
                "landlord",
                b.grid_id,
                {"kind": "landlord", "property_id": b.property_id}
                | ({"signatory_party_id": b.manager_id} if b.manager_id else {}),
                within_year(),
            )
            for b in landlord_subjects
        ] + [
            Agreement("employer", e["grid_id"], {"kind": "employer", "employer_id": eid}, day)
            for (e, eid), day in ((s, within_year()) for s in employer_subjects)
        ]
        for s in tenants:
            last = min(self.today, s.moves.day if s.moves else self.today)
            plans.append(
                Agreement(
                    "tenant",
                    s.building.grid_id,
                    {
                        "kind": "tenant",
                        "property_id": s.building.property_id,
                        "signatory_party_id": s.person_ref,
                    },
                    min(last, plus(s.moved_in, rng.randint(0, HIRE_DELAY_DAYS))),
                    tenant=s,
                )
            )
        results = await self.phase(
            "agreements",
            [
                self.officer_call(
                    f"agreements.signed.{a.kind}",
                    "/agreements",
                    a.grid_id,
                    a.body | self.terms(a.signed_on, office=True),
                )
                for a in plans
            ],
        )
        for a, r in zip(plans, results, strict=True):
            a.agreement_id = r["agreement_id"] if r else None
        return [a for a in plans if a.agreement_id]

    def terms(self, signed_on: date, *, office: bool = False) -> dict[str, Any]:
        return ({"counterpart_office": OFFICE} if office else {}) | {
            "signed_on": signed_on.isoformat(),
            "valid_from": signed_on.isoformat(),
            "valid_until": plus(signed_on, AGREEMENT_DAYS - 1).isoformat(),
        }

    async def churn(self, stays: list[Stay]) -> None:
        """Move-outs and moves elsewhere, in one phase (each person moves once)."""
        movers = [s for s in stays if s.moves]
        calls: list[Awaitable[dict[str, Any] | None]] = []
        for s in movers:
            move = s.moves
            assert move is not None
            if move.to is None:
                calls.append(
                    self.call(
                        f"move_outs.{move.declarer}",
                        "POST",
                        f"/properties/{s.building.property_id}/residences/{s.residence_id}/end",
                        self.declarer_token(move.declarer, s.building, s.person_ref),
                        json={"moved_out_on": move.day.isoformat(), "reason": "moved_out"},
                    )
                )
            else:
                new = Stay(s.person, move.to, move.room_no, move.day, move.declarer)
                new.person_ref = s.person_ref
                calls.append(self.move_in(f"move_ins.{move.declarer}", new, move.to, move.day))
        results = await self.phase("move-outs and moves", calls)
        for s, r in zip(movers, results, strict=True):
            assert s.moves is not None
            if r and s.moves.to is not None:
                self.stats.created["moves_elsewhere"] += 1
                if s.residence_id in r.get("ended_residences", ()):
                    self.stats.created["residences_ended_by_moves"] += 1
            elif not r:
                s.moves = None  # it did not happen: its agreement stays

    async def leaves(self, employers: list[tuple[dict[str, Any], str]], hires: list[Hire]) -> None:
        """Leaves: a second roster from the roster employers, one by one from the others."""
        leavers = [h for h in hires if h.left_on]
        by_roster: dict[int, list[str]] = {}
        singles: list[Hire] = []
        for h in leavers:
            if h.employment_id is None:
                by_roster.setdefault(h.employer, []).append(
                    f"leave,{h.stay.person.id_number},,,{h.left_on}"
                )
            else:
                singles.append(h)
        reports = await self.phase(
            "leave rosters",
            [self.roster("leaves", employers[e], lines) for e, lines in sorted(by_roster.items())],
        )
        self.stats.created["leaves.roster"] += sum(int(r.get("leaves", 0)) for r in reports if r)
        self.stats.errors["roster_lines"] += sum(int(r.get("rejected", 0)) for r in reports if r)
        await self.phase(
            "leaves",
            [
                self.call(
                    "leaves.single",
                    "POST",
                    f"/employers/{employers[h.employer][1]}/employments/{h.employment_id}/end",
                    self.token("employer", employers[h.employer][0]["credit_code"]),
                    json={"left_on": str(h.left_on)},
                )
                for h in singles
            ],
        )

    async def follow_up(self, agreements: list[Agreement]) -> None:
        """Revoke the agreements of tenants who left; renew most of those about to expire."""
        rng = self.rng
        revoked = [a for a in agreements if a.tenant is not None and a.tenant.moves is not None]
        window = plus(self.today, RENEW_WINDOW_DAYS)
        due = [
            a
            for a in agreements
            if a not in revoked and plus(a.signed_on, AGREEMENT_DAYS - 1) <= window
        ]
        renewed = [a for a in due if rng.random() < RENEW_SHARE]
        calls = [
            self.officer_call(
                f"agreements.revoked.{a.kind}",
                f"/agreements/{a.agreement_id}/revoke",
                a.grid_id,
                {
                    "reason": "the tenant moved out"
                    if a.tenant and a.tenant.moves and a.tenant.moves.to is None
                    else "the tenant moved to another building"
                },
            )
            for a in revoked
        ] + [
            self.officer_call(
                f"agreements.renewed.{a.kind}",
                f"/agreements/{a.agreement_id}/renew",
                a.grid_id,
                self.terms(self.day_between(plus(self.today, -7), self.today)),
            )
            for a in renewed
        ]
        await self.phase("agreement renewals and revocations", calls)


KINDS = ("landlord", "tenant", "employer")
DECLARERS = ("landlord", "manager", "person", "officer")


def summary(stats: Stats, elapsed: float) -> tuple[str, bool]:
    """The final report and whether the error share is acceptable."""
    c = stats.created
    move_ins = sum(c[f"move_ins.{d}"] for d in DECLARERS)
    self_declared = move_ins - c["move_ins.officer"]
    organisations = c["landlords.individual_business"] + c["landlords.company"]
    landlords = c["landlords.person"] + organisations
    signed = {k: c[f"agreements.signed.{k}"] for k in KINDS}
    renewed = {k: c[f"agreements.renewed.{k}"] for k in KINDS}
    revoked = {k: c[f"agreements.revoked.{k}"] for k in KINDS}
    # A renewal is a new active agreement; the renewed one is superseded.
    active = {k: signed[k] - revoked[k] for k in KINDS}

    def per(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counts.items())

    def share(part: int, whole: int) -> str:
        return f"{part / whole:.1%}" if whole else "-"

    requests, failed = stats.requests, stats.failed_requests
    error_share = failed / requests if requests else 0.0
    lines = [
        f"grids {c['grids']}; buildings {c['buildings']} with {c['rooms']} rooms",
        f"landlords {landlords}: persons {c['landlords.person']} "
        f"({share(c['landlords.person'], landlords)}), organisations {organisations} "
        f"(individual businesses "
        f"{c['landlords.individual_business']}, companies {c['landlords.company']})",
        f"managers: sublessors {c['managers.sublessor']} (person parties "
        f"{c['managers.party.person']}), buildings run by property companies "
        f"{c['managers.property_company']} (companies {c['managers.party.organisation']})",
        f"persons {c['persons']}; move-ins {move_ins}: "
        + per({d: c[f"move_ins.{d}"] for d in DECLARERS})
        + f" (self-declared {share(self_declared, move_ins)}; brought over from the records "
        f"{c['move_ins.migrated']}, declared today {move_ins - c['move_ins.migrated']})",
        f"moves elsewhere {c['moves_elsewhere']} (previous residence ended "
        f"{c['residences_ended_by_moves']}); move-outs "
        f"{sum(c[f'move_outs.{d}'] for d in DECLARERS)}: "
        + per({d: c[f"move_outs.{d}"] for d in ("landlord", "manager", "officer")}),
        f"employers {c['employers']}; hires {c['hires.roster'] + c['hires.single']} "
        f"(roster {c['hires.roster']} in {c['roster_uploads.hires']} uploads, one by one "
        f"{c['hires.single']}); leaves {c['leaves.roster'] + c['leaves.single']} "
        f"(roster {c['leaves.roster']} in {c['roster_uploads.leaves']} uploads, one by one "
        f"{c['leaves.single']})",
        f"agreements signed {sum(signed.values())}: {per(signed)}; renewed "
        f"{sum(renewed.values())}: {per(renewed)}; revoked {sum(revoked.values())}: "
        f"{per(revoked)}",
        f"agreements now: active {sum(active.values())} ({per(active)}), superseded "
        f"{sum(renewed.values())}, revoked {sum(revoked.values())}",
        "phases: "
        + "; ".join(
            f"{p.name} {p.requests} req {p.seconds:.1f} s"
            + (f" ({p.requests / p.seconds:.0f}/s)" if p.seconds >= 0.5 else "")
            for p in stats.phases
        ),
        "errors: "
        + (", ".join(f"{k} {v}" for k, v in sorted(stats.errors.items()) if v) or "none"),
        *(f"  e.g. {s}" for s in stats.samples),
        f"{requests} requests in {elapsed:.1f} s: {requests / elapsed if elapsed else 0:.1f} req/s;"
        f" {failed} failed, error share {error_share:.2%}",
    ]
    return "\n".join(lines), error_share <= MAX_ERROR_SHARE


async def generate(
    base_url: str,
    jwt_secret: str,
    *,
    scale: float = 1.0,
    seed: int = 1,
    concurrency: int = DEFAULT_CONCURRENCY,
    client: httpx.AsyncClient | None = None,
    today: date | None = None,
    community: str = COMMUNITY,
    log: Callable[[str], None] = print,
) -> tuple[Stats, bool]:
    started = time.perf_counter()
    owned = client is None
    http = client or httpx.AsyncClient(
        base_url=base_url,
        timeout=60,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )
    try:
        generator = Generator(
            http,
            jwt_secret,
            scale=scale,
            seed=seed,
            concurrency=concurrency,
            today=today,
            community=community,
            log=log,
        )
        stats = await generator.run()
    finally:
        if owned:
            await http.aclose()
    report, ok = summary(stats, time.perf_counter() - started)
    log(report)
    return stats, ok


def grid_ids(scale: float, *, seed: int = 1, prefix: str | None = None) -> list[str]:
    """The grids a district of ``scale`` has (the other services' districts work in them)."""
    prefix = prefix or f"{COMMUNITY[:2].upper()}{seed:02d}"
    n_grids = max(1, min(GRIDS, math.ceil(GRIDS * math.sqrt(scale))))
    return [f"{prefix}-G{g + 1:02d}" for g in range(n_grids)]


def run_district(
    base_url: str,
    jwt_secret: str,
    *,
    scale: float = 1.0,
    seed: int = 1,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> int:
    _, ok = asyncio.run(
        generate(base_url, jwt_secret, scale=scale, seed=seed, concurrency=concurrency)
    )
    if not ok:
        print(f"error share above {MAX_ERROR_SHARE:.0%}", file=sys.stderr)
    return 0 if ok else 1
