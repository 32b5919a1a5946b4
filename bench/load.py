"""Load drivers: declarations over HTTP (paced open loop, closed loop), topic and figures."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from common.identity import check_character
from registration.events import ResidenceDeclared

now = time.perf_counter
ROOMS = [f"{floor}{n:02d}" for floor in (1, 2) for n in range(1, 6)]  # 10 rooms a property
LANDLORD = "L-BENCH"


def identity_number(seq: int) -> str:
    """A distinct valid identity number per ``seq`` (1000 per birth date)."""
    born = date(1970, 1, 1) + timedelta(days=seq // 1000)
    first17 = f"440306{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_character(first17)


@dataclass
class Phase:
    """What one load phase measured; times are ``time.perf_counter()`` values."""

    started: float = 0.0
    finished: float = 0.0  # last response
    latencies: list[float] = field(default_factory=list)  # seconds, 201 responses
    cut: list[float] = field(default_factory=list)  # ages of requests cut off at the limit
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # residence_id -> send time
    property_of: dict[str, str] = field(default_factory=dict)  # residence_id -> property
    client_lag_max: float = 0.0  # how late the paced scheduler fired (bench side)


async def register_grids(http: httpx.AsyncClient, admin: str, grids: list[str]) -> None:
    """Register the grids the bench's properties are in (an admin's token)."""
    for grid in grids:
        response = await http.post(
            "/grids",
            json={"grid_id": grid, "name": grid, "community": "Bench"},
            headers={"Authorization": f"Bearer {admin}", "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code != 201 and "already" not in response.text:
            response.raise_for_status()


async def register_properties(
    http: httpx.AsyncClient, landlord: str, grid: str, n: int
) -> list[str]:
    """``n`` properties of the landlord in ``grid``, each with the rooms in ``ROOMS``."""
    ids = []
    for i in range(n):
        body = {
            "address": f"Bench Lane {i}",
            "grid_id": grid,
            "landlord_id": LANDLORD,
            "rooms": [{"room_no": room, "capacity": 4} for room in ROOMS],
        }
        headers = {"Authorization": f"Bearer {landlord}", "Idempotency-Key": str(uuid.uuid4())}
        response = await http.post("/properties", json=body, headers=headers)
        response.raise_for_status()
        ids.append(response.json()["property_id"])
    return ids


class Declarer:
    """Sends move-in declarations round-robin over the registered properties' rooms."""

    def __init__(
        self, http: httpx.AsyncClient, landlord: str, properties: list[str], in_flight: int
    ) -> None:
        self.http = http
        # Requests wait here rather than in httpx's pool, which rescans every queued
        # request on each release: the client would spend more CPU than the service.
        self.gate = asyncio.Semaphore(in_flight)
        self.auth = f"Bearer {landlord}"
        self.slots = itertools.cycle([(p, r) for r in ROOMS for p in properties])
        self.seq = itertools.count()

    async def declare(self, phase: Phase, sent: float) -> None:
        prop, room = next(self.slots)
        body = {
            "id_number": identity_number(next(self.seq)),
            "name": "Bench Tenant",
            "phone": "13800000000",
            "room_no": room,
            "moved_in_on": datetime.now(UTC).date().isoformat(),
        }
        headers = {"Authorization": self.auth, "Idempotency-Key": str(uuid.uuid4())}
        try:
            async with self.gate:
                response = await self.http.post(
                    f"/properties/{prop}/residences", json=body, headers=headers
                )
        except httpx.HTTPError as exc:
            phase.errors[type(exc).__name__] += 1
            return
        except asyncio.CancelledError:
            phase.cut.append(now() - sent)
            raise
        phase.finished = max(phase.finished, now())
        if response.status_code != 201:
            phase.errors[f"HTTP {response.status_code}"] += 1
            if len(phase.error_samples) < 3:
                phase.error_samples.append(response.text[:300])
            return
        phase.latencies.append(phase.finished - sent)
        rid = response.json()["residence_id"]
        phase.sent_at[rid], phase.property_of[rid] = sent, prop

    async def paced(self, n: int, rate: float, grace_s: float) -> Phase:
        """Open loop: request i goes at start + i/rate, whatever the earlier ones do."""
        phase, tasks = Phase(started=now()), []
        try:
            for i in range(n):
                target = phase.started + i / rate
                if (delay := target - now()) > 0:
                    await asyncio.sleep(delay)
                phase.client_lag_max = max(phase.client_lag_max, now() - target)
                # Latency counts from the scheduled time: a late send is a delay too.
                tasks.append(asyncio.create_task(self.declare(phase, target)))
        except asyncio.CancelledError:  # Ctrl-C: nothing may outlive the HTTP client
            for task in tasks:
                task.cancel()
            raise
        await cut_off(tasks, grace_s)
        return phase

    async def closed(self, n: int, concurrency: int, limit_s: float) -> Phase:
        """Closed loop: each of ``concurrency`` workers sends its next request on a response."""
        phase, remaining = Phase(started=now()), iter(range(n))

        async def worker() -> None:
            for _ in remaining:
                if now() - phase.started > limit_s:
                    return
                await self.declare(phase, now())

        await cut_off([asyncio.create_task(worker()) for _ in range(concurrency)], limit_s + 10)
        return phase


async def cut_off(tasks: list[asyncio.Task[None]], limit_s: float) -> None:
    """Wait up to ``limit_s`` for ``tasks``, then cancel the rest (``declare`` notes them)."""
    try:
        await asyncio.wait(tasks, timeout=limit_s)
    finally:  # on the limit, and on Ctrl-C
        for task in tasks:
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def topic_partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])


def residence_id(record: ConsumerRecord) -> str | None:
    ce_type = dict(record.headers).get("ce_type", b"").decode()
    if not ce_type.startswith(ResidenceDeclared.name + "."):
        return None
    rid: str = json.loads(record.value)["residence_id"]
    return rid


def ce_id(record: ConsumerRecord) -> str:
    return dict(record.headers)["ce_id"].decode()


class TopicWatcher:
    """Reads a topic from its current end without a group; notes when each record arrived."""

    def __init__(
        self, bootstrap: str, topic: str, key_of: Callable[[ConsumerRecord], str | None]
    ) -> None:
        self.bootstrap, self.topic, self.key_of = bootstrap, topic, key_of
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.arrived: dict[str, float] = {}
        self.subject: dict[str, str] = {}  # key -> ce_subject
        self.sizes: list[int] = []  # key + value + headers, bytes
        self.records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []  # first copies
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicWatcher:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        tps = await topic_partitions(self.bootstrap, self.topic)
        await self.consumer.start()
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        for tp in tps:
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        for _ in range(10_000_000):  # ended by stop()
            batches = await self.consumer.getmany(timeout_ms=200)
            arrived = now()
            for record in itertools.chain.from_iterable(batches.values()):
                if (key := self.key_of(record)) is None or key in self.arrived:
                    continue
                self.arrived[key] = arrived
                self.subject[key] = dict(record.headers).get("ce_subject", b"").decode()
                self.records.append((record.key, record.value, list(record.headers)))
                self.sizes.append(
                    len(record.value)
                    + len(record.key or b"")
                    + sum(len(k) + len(v) for k, v in record.headers)
                )

    async def wait_for(self, keys: set[str], limit_s: float) -> None:
        for _ in range(int(limit_s / 0.05)):
            if keys <= self.arrived.keys():
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


class Figures:
    """Samples a grid's declaration count (``GET /figures/grids/{grid}``) periodically."""

    def __init__(
        self, http: httpx.AsyncClient, officer: str, grid: str, interval_s: float = 0.2
    ) -> None:
        self.http, self.grid, self.interval_s = http, grid, interval_s
        self.headers = {"Authorization": f"Bearer {officer}"}
        self.samples: list[tuple[float, int]] = []  # (time, count)

    async def count(self) -> int:
        month = datetime.now(UTC).strftime("%Y-%m")
        r = await self.http.get(
            f"/figures/grids/{self.grid}", params={"month": month}, headers=self.headers
        )
        r.raise_for_status()
        count: int = r.json()["declarations"]
        self.samples.append((now(), count))
        return count

    async def sample_until(self, target: int, limit_s: float) -> bool:
        """Sample until the count reaches ``target`` (True) or ``limit_s`` passed."""
        for _ in range(int(limit_s / self.interval_s)):
            with contextlib.suppress(httpx.HTTPError):
                if await self.count() >= target:
                    return True
            await asyncio.sleep(self.interval_s)
        return False

    def reached(self, target: int) -> float | None:
        return next((t for t, count in self.samples if count >= target), None)

    def rate(self) -> float:
        """Applied per second between the first and the last change of the count."""
        moving = [
            (t, c)
            for (t, c), (_, prev) in zip(self.samples[1:], self.samples, strict=False)
            if c != prev
        ]
        if len(moving) < 2:
            return 0.0
        (t0, c0), (t1, c1) = moving[0], moving[-1]
        return (c1 - c0) / (t1 - t0)
