"""Generate the office's demo district through the public HTTP API.

At ``scale`` 1.0 this is the community of DOMAIN.md: 2,247 rental buildings with 42,052
rooms (capacities 1-6), 67,880 person-declarations of move-ins over half a year (the
self-declaration rate rising from 81.6% to 93.6%, the rest declared by officers), 5,800
employers with their rosters uploaded as CSV, and about 8,047 responsibility agreements
(landlords, tenants, employers; a realistic share of subjects has none). Grids scale with
the square root of ``scale`` (an area). Everything is derived from ``seed``.

Every request carries a fresh ``Idempotency-Key`` (kept on retries of that request);
tokens are minted with the service's JWT secret: admin for grids, one landlord token per
landlord party, one officer token per grid, one employer token per employer.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from common.auth import mint_token
from registration.domain import credit_code, identity

COMMUNITY = "Wentang"
OFFICE = "Wentang community police office"
GRIDS = 24
BUILDINGS = 2_247
ROOMS = 42_052
DECLARATIONS = 67_880
EMPLOYERS = 5_800
AGREEMENTS = 8_047
RATE_FROM, RATE_TO = 0.816, 0.936  # self-declaration rate at the start / end of the period
PERIOD_DAYS = 182
LANDLORD_AGREEMENT_SHARE = 0.85  # of properties; employers 0.80, tenants: the remainder
EMPLOYER_AGREEMENT_SHARE = 0.80
HIRED_SHARE = 0.55  # of the declared persons, hired by some employer
MAX_ERROR_SHARE = 0.01
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


@dataclass(frozen=True)
class Person:
    id_number: str
    name: str
    phone: str


@dataclass
class Stats:
    created: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    requests: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class Generator:
    def __init__(
        self,
        client: httpx.AsyncClient,
        jwt_secret: str,
        *,
        scale: float = 1.0,
        seed: int = 1,
        concurrency: int = 16,
        today: date | None = None,
        community: str = COMMUNITY,
        log: Callable[[str], None] = print,
    ) -> None:
        self.http = client
        self.secret = jwt_secret
        self.scale = scale
        self.rng = random.Random(seed)
        self.sem = asyncio.Semaphore(concurrency)
        self.today = today or date.today()
        self.community = community
        self.log = log
        self.stats = Stats()
        self._tokens: dict[tuple[str, str], str] = {}
        self.prefix = f"{community[:2].upper()}{seed % 100:02d}"

    # -- plumbing -------------------------------------------------------------------------
    def token(self, role: str, ident: str) -> str:
        """One token per (role, party or grid); admin covers everything."""
        cached = self._tokens.get((role, ident))
        if cached is None:
            scopes = ["registration:write", "registration:read"]
            if role == "officer":
                cached = mint_token(
                    self.secret, sub=f"officer-{ident}", role=role, grids=[ident], scopes=scopes
                )
            elif role == "admin":
                cached = mint_token(self.secret, sub="district-admin", role=role, scopes=scopes)
            else:
                cached = mint_token(
                    self.secret, sub=f"{role}-{ident}", role=role, party_id=ident, scopes=scopes
                )
            self._tokens[(role, ident)] = cached
        return cached

    async def call(
        self, kind: str, method: str, path: str, token: str, **kw: Any
    ) -> dict[str, Any] | None:
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

    async def phase(self, name: str, calls: list[Any]) -> list[Any]:
        started = time.perf_counter()
        total, done = len(calls), 0
        step = max(1, total // 10)

        async def tracked(coro: Any) -> Any:
            nonlocal done
            result = await coro
            done += 1
            if done % step == 0 or done == total:
                self.log(f"  {name}: {done}/{total} ({time.perf_counter() - started:.1f} s)")
            return result

        results = await asyncio.gather(*(tracked(c) for c in calls))
        return list(results)

    def count(self, figure: int) -> int:
        return max(1, round(figure * self.scale))

    # -- data -----------------------------------------------------------------------------
    def credit_code(self, department_type: str, seq: int) -> str:
        body = "".join(credit_code.CHARSET[self.rng.randrange(31)] for _ in range(8))
        first17 = f"{department_type}441900{body}{credit_code.CHARSET[seq % 31]}"[:17]
        return credit_code.with_check_character(first17)

    def people(self, n: int) -> list[Person]:
        seen: set[str] = set()
        result: list[Person] = []
        first_birthday, span = date(1960, 1, 1), (date(2005, 12, 31) - date(1960, 1, 1)).days
        while len(result) < n:
            born = first_birthday + timedelta(days=self.rng.randrange(span + 1))
            first17 = f"{self.rng.choice(REGIONS)}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
            number = first17 + identity.check_character(first17)
            if number in seen:
                continue
            seen.add(number)
            name = self.rng.choice(SURNAMES) + "".join(
                self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
            )
            phone = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            result.append(Person(number, name, phone))
        return result

    # -- the district ---------------------------------------------------------------------
    async def run(self) -> Stats:
        rng = self.rng
        n_grids = max(1, min(GRIDS, math.ceil(GRIDS * math.sqrt(self.scale))))
        n_props, n_rooms = self.count(BUILDINGS), max(self.count(ROOMS), self.count(BUILDINGS))
        n_decl, n_emp = self.count(DECLARATIONS), self.count(EMPLOYERS)
        grids = [f"{self.prefix}-G{g + 1:02d}" for g in range(n_grids)]
        admin = self.token("admin", "")

        self.log(f"grids: {n_grids}")
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

        # Landlords: individual businesses (个体工商户, 92…) letting one to a few buildings.
        n_landlords = max(1, round(n_props * 0.7))
        landlords = [self.credit_code("92", i) for i in range(n_landlords)]
        self.log(f"landlords: {n_landlords}")
        await self.phase(
            "landlords",
            [
                self.call(
                    "parties",
                    "POST",
                    "/parties",
                    self.token("landlord", code),
                    json={"kind": "organisation", "credit_code": code, "name": f"房东{i + 1}"},
                )
                for i, code in enumerate(landlords)
            ],
        )

        # Rooms: one each, the rest spread over the buildings with lognormal sizes.
        sizes = [1] * n_props
        weights = [rng.lognormvariate(2.5, 0.8) for _ in range(n_props)]
        for i in rng.choices(range(n_props), weights=weights, k=n_rooms - n_props):
            sizes[i] += 1
        props: list[dict[str, Any]] = []
        for i, size in enumerate(sizes):
            props.append(
                {
                    "address": f"{self.community} Village, Lane {i // 20 + 1}, No. {i % 20 + 1}",
                    "grid_id": grids[i % n_grids],
                    "landlord_id": landlords[i] if i < n_landlords else rng.choice(landlords),
                    "rooms": [
                        {"room_no": f"{r // 10 + 1}{r % 10 + 1:02d}", "capacity": rng.randint(1, 6)}
                        for r in range(size)
                    ],
                }
            )
        self.log(f"properties: {n_props} with {n_rooms} rooms")
        created = await self.phase(
            "properties",
            [
                self.call(
                    "properties",
                    "POST",
                    "/properties",
                    self.token("landlord", p["landlord_id"]),
                    json=p,
                )
                for p in props
            ],
        )
        registered = [(p, r["property_id"]) for p, r in zip(props, created, strict=True) if r]

        # Move-ins over the last half-year; self-declared share rising with time.
        persons = self.people(n_decl)
        slots = [(p, pid, room["room_no"]) for p, pid in registered for room in p["rooms"]]
        decls: list[tuple[Person, str, str, str, date, bool]] = []
        for person in persons:
            prop, pid, room_no = rng.choice(slots)
            offset = rng.randrange(PERIOD_DAYS)
            progress = 1 - offset / PERIOD_DAYS
            self_declared = rng.random() < RATE_FROM + (RATE_TO - RATE_FROM) * progress
            moved_in = self.today - timedelta(days=offset)
            decls.append((person, pid, prop["grid_id"], room_no, moved_in, self_declared))
        landlord_of = {pid: p["landlord_id"] for p, pid in registered}
        self.log(f"declarations: {len(decls)}")
        results = await self.phase(
            "declarations",
            [
                self.call(
                    "declarations",
                    "POST",
                    f"/properties/{pid}/residences",
                    self.token("landlord", landlord_of[pid])
                    if self_declared
                    else self.token("officer", grid),
                    json={
                        "id_number": person.id_number,
                        "name": person.name,
                        "phone": person.phone,
                        "room_no": room_no,
                        "moved_in_on": moved_in.isoformat(),
                    },
                )
                for person, pid, grid, room_no, moved_in, self_declared in decls
            ],
        )
        residents = [
            (d, r["person_ref"]) for d, r in zip(decls, results, strict=True) if r is not None
        ]
        self.stats.created["self_declared"] = sum(1 for d, _ in residents if d[5])

        # Employers (factories, enterprises, shops: 91…) register themselves.
        employers = [
            {
                "credit_code": self.credit_code("91", i),
                "name": f"{self.community} Enterprise {i + 1}",
                "grid_id": grids[i % n_grids],
                "address": f"{i + 1} Industrial Road, {self.community}",
            }
            for i in range(n_emp)
        ]
        self.log(f"employers: {n_emp}")
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
        registered_employers = [
            (e, r["employer_id"]) for e, r in zip(employers, created, strict=True) if r
        ]

        # Rosters: a share of the declared persons hired, employers sized by a Pareto law.
        rosters: dict[int, list[str]] = {}
        if registered_employers:
            sizes_w = [rng.paretovariate(1.2) for _ in registered_employers]
            hired = rng.sample(residents, round(len(residents) * HIRED_SHARE))
            picks = rng.choices(range(len(registered_employers)), weights=sizes_w, k=len(hired))
            for ((person, *_rest, moved_in, _s), _ref), e in zip(hired, picks, strict=True):
                day = moved_in + timedelta(days=rng.randrange(0, 15))
                day = min(day, self.today)
                rosters.setdefault(e, []).append(
                    f"hire,{person.id_number},{person.name},{person.phone},{day.isoformat()}"
                )
        self.log(f"rosters: {len(rosters)} with {sum(map(len, rosters.values()))} hires")
        reports = await self.phase(
            "rosters",
            [
                self.call(
                    "rosters",
                    "POST",
                    f"/employers/{registered_employers[e][1]}/roster",
                    self.token("employer", registered_employers[e][0]["credit_code"]),
                    content=(
                        "action,id_number,name,phone,date\n" + "\n".join(lines) + "\n"
                    ).encode(),
                    headers={"Content-Type": "text/csv"},
                )
                for e, lines in sorted(rosters.items())
            ],
        )
        self.stats.created["hires"] = sum(int(r.get("hires", 0)) for r in reports if r)
        self.stats.errors["roster_lines"] = sum(int(r.get("rejected", 0)) for r in reports if r)

        # Agreements: most landlords and employers; tenants make up the rest of the total.
        n_agreements = self.count(AGREEMENTS)
        terms = {
            "counterpart_office": OFFICE,
            "signed_on": (self.today - timedelta(days=30)).isoformat(),
            "valid_from": (self.today - timedelta(days=30)).isoformat(),
            "valid_until": (self.today + timedelta(days=700)).isoformat(),
        }
        landlord_subjects = rng.sample(
            registered, round(len(registered) * LANDLORD_AGREEMENT_SHARE)
        )
        employer_subjects = rng.sample(
            registered_employers, round(len(registered_employers) * EMPLOYER_AGREEMENT_SHARE)
        )
        n_tenants = max(0, n_agreements - len(landlord_subjects) - len(employer_subjects))
        tenant_subjects = rng.sample(residents, min(n_tenants, len(residents)))
        agreements = (
            [
                ("landlord", p["grid_id"], {"kind": "landlord", "property_id": pid})
                for p, pid in landlord_subjects
            ]
            + [
                ("employer", e["grid_id"], {"kind": "employer", "employer_id": eid})
                for e, eid in employer_subjects
            ]
            + [
                ("tenant", d[2], {"kind": "tenant", "property_id": d[1], "signatory_party_id": ref})
                for d, ref in tenant_subjects
            ]
        )
        self.log(f"agreements: {len(agreements)}")
        results = await self.phase(
            "agreements",
            [
                self.call(
                    f"agreements_{kind}",
                    "POST",
                    "/agreements",
                    self.token("officer", grid),
                    json=body | terms,
                )
                for kind, grid, body in agreements
            ],
        )
        self.stats.created["agreements"] = sum(1 for r in results if r)
        return self.stats


def summary(stats: Stats, elapsed: float) -> tuple[str, bool]:
    """The final report and whether the error share is acceptable."""
    requests = stats.requests
    failed = stats.error_count - stats.errors["roster_lines"]
    share = failed / requests if requests else 0.0
    lines = [
        "created: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.created.items())),
        "errors: "
        + (", ".join(f"{k} {v}" for k, v in sorted(stats.errors.items()) if v) or "none"),
        *(f"  e.g. {s}" for s in stats.samples),
        f"{requests} requests in {elapsed:.1f} s: {requests / elapsed if elapsed else 0:.1f} req/s;"
        f" error share {share:.2%}",
    ]
    return "\n".join(lines), share <= MAX_ERROR_SHARE


async def generate(
    base_url: str,
    jwt_secret: str,
    *,
    scale: float = 1.0,
    seed: int = 1,
    concurrency: int = 16,
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


def run_district(
    base_url: str, jwt_secret: str, *, scale: float = 1.0, seed: int = 1, concurrency: int = 16
) -> int:
    _, ok = asyncio.run(
        generate(base_url, jwt_secret, scale=scale, seed=seed, concurrency=concurrency)
    )
    if not ok:
        print("error share above 1%", file=sys.stderr)
    return 0 if ok else 1
