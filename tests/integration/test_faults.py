"""Faults not yet tried (issue 7): the broker and the database restarted under load.

Registration runs as a process (:class:`ServiceProcess`), relay and consumers on, on a
Kafka broker and a PostgreSQL server of this module's own (:class:`KafkaBroker`,
:class:`PostgresCluster`): restarting them must not disturb the session's
``kafka_bootstrap`` and ``postgres_cluster`` that every other test uses.

Each test drives a bounded load while the fault happens: declarations over HTTP (each
one a command whose events are staged in the outbox and relayed), as a client would,
retrying a failed request with the same ``Idempotency-Key``; and residence events
produced straight onto ``registration.events`` for the figures consumer. Then it counts,
before and after, and asserts:

- every staged event (outbox row) is on its topic: each distinct ``ce_id`` present,
  duplicates allowed (at least once), and the outbox drained to zero unsent;
- every accepted declaration was applied once: one ``ResidenceDeclared`` staged per
  accepted command (none for a retry), and the figures consumer's effects
  (``grid_month_figures.declarations``, its inbox rows) equal the distinct events, for
  the declarations and for the produced events: nothing lost, nothing doubled, nothing
  dead-lettered;
- the service came back by itself: the same process throughout, ready again; and
  while the database is down ``/readyz`` says so and commands get a 503.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.kafka import KafkaBroker, create_topics
from devstack.postgres import PostgresCluster, StopMode
from registration.entrypoints.figures_consumers import FIGURES_GROUP
from registration.events import TOPIC
from registration.main import service as registration_service
from tests.integration.services import (
    ServiceProcess,
    event_record,
    identity_number,
    produce,
    register_grid,
    registration_env,
    residence_event,
    token,
)

pytestmark = pytest.mark.integration

MONTH = datetime.now(UTC).strftime("%Y-%m")
DECLARED = "registration.ResidenceDeclared.v1"
ROOMS = [f"R{i}" for i in range(10)]
#: Distinct identity numbers :func:`identity_number` makes (its sequence is taken mod 1000).
MAX_DECLARATIONS = 900


# --------------------------------------------------------------------------- infrastructure
@pytest.fixture(scope="module")
def fault_kafka() -> Iterator[KafkaBroker]:
    """A broker of this module's own: the tests stop and start it."""
    with KafkaBroker() as broker:
        create_topics(broker.bootstrap, registration_service.topic_names(), partitions=3)
        yield broker


@pytest.fixture(scope="module")
def fault_postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this module's own (crash-safe: no commit lost to a crash)."""
    with PostgresCluster(crash_safe=True) as cluster:
        yield cluster


@pytest.fixture
def fault_service(
    fault_kafka: KafkaBroker, fault_postgres: PostgresCluster, tmp_path: Path
) -> Iterator[ServiceProcess]:
    """Registration on the module's broker and a fresh database of the module's server."""
    url = fault_postgres.create_database(f"faults_{uuid.uuid4().hex[:10]}")
    env = registration_env(fault_kafka.bootstrap, url)
    # Small consumer batches: a transaction and an offset commit in flight most of the time.
    env["REGISTRATION_CONSUMER_BATCH_SIZE"] = "50"
    proc = ServiceProcess("registration", env, tmp_path)
    proc.migrate()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


# --------------------------------------------------------------------------- load
def new_property(service: ServiceProcess, grid: str) -> str:
    register_grid(service, grid)
    response = service.call(
        "POST",
        "/properties",
        token("landlord", party_id="L-FAULT"),
        json={
            "address": f"Fault Road {grid}",
            "grid_id": grid,
            "landlord_id": "L-FAULT",
            "rooms": [{"room_no": r, "capacity": 100} for r in ROOMS],
        },
    )
    assert response.status_code == 201, response.text
    property_id: str = response.json()["property_id"]
    return property_id


@dataclass
class DeclarationLoad:
    """Move-ins declared by a few client threads at a steady rate, until :meth:`finish`.

    A client retries a request that failed (5xx, no answer) with the same
    Idempotency-Key every ``retry_s`` until it is accepted or ``give_up_s`` passed.
    """

    url: str
    property_id: str
    workers: int = 4
    rate_per_s: float = 40.0
    retry_s: float = 0.25
    give_up_s: float = 45.0
    accepted: dict[int, str] = field(default_factory=dict)
    """Sequence number -> residence id, of each declaration answered 201."""
    first_answers: Counter[str] = field(default_factory=Counter)
    """How each declaration was first answered (a status code, or the client's error)."""
    retry_answers: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    """Declarations answered with a 4xx, or given up: none are expected."""
    bad_unavailable: list[str] = field(default_factory=list)
    """5xx answers that are not ``503 {"detail": "database unavailable"}``."""
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def requested(self) -> int:
        return self._next

    def stop(self) -> None:
        """No new declarations (one in flight still finishes, or gives up)."""
        self._stop.set()

    def start(self) -> DeclarationLoad:
        for i in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"load-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait_accepted(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            assert time.monotonic() < deadline, f"{len(self.accepted)} accepted, not {count}"
            time.sleep(0.05)

    def finish(self, *, more: int, timeout: float = 60.0) -> None:
        """Let ``more`` further declarations be accepted, then stop and join the clients."""
        self.wait_accepted(min(len(self.accepted) + more, MAX_DECLARATIONS), timeout)
        self.stop()
        for thread in self._threads:
            thread.join(timeout=self.give_up_s + 20)
            assert not thread.is_alive(), "a load client did not stop"

    def _take(self) -> int | None:
        with self._lock:
            if self._stop.is_set() or self._next >= MAX_DECLARATIONS:
                return None
            self._next += 1
            return self._next

    def _work(self) -> None:
        bearer = token("landlord", party_id="L-FAULT")
        pause = self.workers / self.rate_per_s
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while (seq := self._take()) is not None:
                self._declare(client, bearer, seq)
                time.sleep(pause)

    def _declare(self, client: httpx.Client, bearer: str, seq: int) -> None:
        headers = {"Authorization": f"Bearer {bearer}", "Idempotency-Key": str(uuid.uuid4())}
        body = {
            "id_number": identity_number(seq),
            "name": "Li Si",
            "room_no": ROOMS[seq % len(ROOMS)],
            "moved_in_on": date.today().isoformat(),
        }
        path = f"/properties/{self.property_id}/residences"
        give_up = time.monotonic() + self.give_up_s
        answers = self.first_answers
        while True:
            try:
                response = client.post(path, json=body, headers=headers)
                answer = str(response.status_code)
            except httpx.HTTPError as exc:
                response, answer = None, type(exc).__name__
            with self._lock:
                answers[answer] += 1
            answers = self.retry_answers
            if response is not None and response.status_code == 201:
                with self._lock:
                    self.accepted[seq] = response.json()["residence_id"]
                return
            if response is not None and response.status_code >= 500:
                if response.status_code != 503 or _json(response) != {
                    "detail": "database unavailable"
                }:
                    with self._lock:
                        self.bad_unavailable.append(f"{answer} {response.text[:300]}")
            elif response is not None:  # a 4xx: the request itself was refused
                with self._lock:
                    self.refused.append(f"#{seq}: {answer} {response.text[:300]}")
                return
            if time.monotonic() > give_up:
                with self._lock:
                    self.refused.append(f"#{seq}: gave up after {answer}")
                return
            time.sleep(self.retry_s)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def produce_residences(bootstrap: str, grid: str, count: int) -> set[str]:
    """Produce ``count`` ResidenceDeclared events of ``grid``; returns their ``ce_id``s."""
    events = [residence_event(grid, f"prop-{grid}-{i % 20}", i) for i in range(count)]
    records = [event_record(e) for e in events]
    asyncio.run(produce(bootstrap, records))
    return {dict(headers)["ce_id"].decode() for *_, headers in records}


# --------------------------------------------------------------------------- observing
@dataclass
class Readiness:
    """``/readyz`` polled in a thread: every answer, with the time it came."""

    url: str
    answers: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Readiness:
        self._thread = threading.Thread(target=self._poll, name="readyz", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _poll(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(f"{self.url}/readyz")
                    answer, body = str(response.status_code), _json(response) or {}
                except httpx.HTTPError as exc:
                    answer, body = type(exc).__name__, {}
                self.answers.append((time.monotonic(), answer, body))
                self._stop.wait(0.2)

    def between(self, start: float, end: float) -> list[tuple[str, dict[str, Any]]]:
        return [(a, b) for t, a, b in self.answers if start <= t <= end]


def wait_ready(service: ServiceProcess, timeout: float) -> float:
    """Seconds until ``/readyz`` answers 200."""
    started = time.monotonic()
    deadline = started + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{service.url}/readyz", timeout=5)
            if response.status_code == 200:
                return time.monotonic() - started
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise AssertionError(f"not ready again within {timeout}s: {last}\n{service.tail()}")


def run(query: Callable[[Any], Any], url: str) -> Any:
    async def go() -> Any:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await query(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@dataclass
class Counts:
    """The database's side of the story, read once."""

    staged: dict[str, str]
    """Every outbox row: ce_id -> ce_type."""
    unsent: int
    declared_by_grid: Counter[str]
    """ResidenceDeclared outbox rows per grid."""
    figures: dict[str, int]
    """grid_month_figures.declarations of this month, per grid."""
    inbox: set[str]
    """The figures consumer's inbox: the ce_ids it applied."""
    topics: list[str]


def database_counts(url: str) -> Counts:
    async def query(conn: Any) -> Counts:
        rows = (await conn.execute(text("SELECT event_id, ce_type, topic FROM outbox"))).all()
        unsent = await conn.scalar(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
        declared: Counter[str] = Counter()
        for (payload,) in (
            await conn.execute(
                text("SELECT payload FROM outbox WHERE ce_type = :t"), {"t": DECLARED}
            )
        ).all():
            declared[json.loads(bytes(payload))["grid_id"]] += 1
        figures = {
            g: int(n)
            for g, n in (
                await conn.execute(
                    text("SELECT grid_id, declarations FROM grid_month_figures WHERE month = :m"),
                    {"m": MONTH},
                )
            ).all()
        }
        inbox = {
            e
            for (e,) in (
                await conn.execute(
                    text("SELECT event_id FROM inbox WHERE consumer = :c"), {"c": FIGURES_GROUP}
                )
            ).all()
        }
        return Counts(
            staged={r.event_id: r.ce_type for r in rows},
            unsent=int(unsent or 0),
            declared_by_grid=declared,
            figures=figures,
            inbox=inbox,
            topics=sorted({r.topic for r in rows} | {TOPIC}),
        )

    result: Counts = run(query, url)
    return result


def wait_settled(url: str, expected: dict[str, int], timeout: float) -> Counts:
    """Until the outbox is drained and each grid's figures reached ``expected``."""
    deadline = time.monotonic() + timeout
    while True:
        counts = database_counts(url)
        done = counts.unsent == 0 and all(
            counts.figures.get(g, 0) >= n for g, n in expected.items()
        )
        if done or time.monotonic() > deadline:
            return counts
        time.sleep(0.3)


def topic_ce_ids(bootstrap: str, topics: list[str], wait_s: float = 30.0) -> Counter[str]:
    """Every record's ``ce_id`` on ``topics`` (all partitions, start to end), counted."""

    async def read() -> Counter[str]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
        )
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        partitions = [
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]
        ]
        assert {tp.topic for tp in partitions} == set(topics), described
        await consumer.start()
        seen: Counter[str] = Counter()
        try:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            deadline = time.monotonic() + wait_s
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                assert time.monotonic() < deadline, "topics not read to their end in time"
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                for records in batches.values():
                    for record in records:
                        ce_id = dict(record.headers or ()).get("ce_id")
                        if ce_id is not None:
                            seen[ce_id.decode()] += 1
        finally:
            await consumer.stop()
        return seen

    return asyncio.run(read())


def consumed_outcomes(service: ServiceProcess) -> dict[str, float]:
    """The figures consumer's ``events_consumed_total`` by outcome, from ``/metrics``."""
    text_ = httpx.get(f"{service.url}/metrics", timeout=10).text
    found: dict[str, float] = {}
    prefix = f'events_consumed_total{{consumer="{FIGURES_GROUP}",outcome="'
    for line in text_.splitlines():
        if line.startswith(prefix):
            outcome, _, value = line[len(prefix) :].partition('"} ')
            found[outcome] = float(value)
    return found


def dead_letters(bootstrap: str) -> int:
    return sum(topic_ce_ids(bootstrap, [TOPIC + ".dlq"]).values())


# --------------------------------------------------------------------------- verdict
def check_and_report(
    title: str,
    service: ServiceProcess,
    bootstrap: str,
    url: str,
    load: DeclarationLoad,
    grid: str,
    produced_grid: str,
    produced: set[str],
    before: Counts,
    dlq_before: int,
) -> None:
    expected = {grid: len(load.accepted), produced_grid: len(produced)}
    after = wait_settled(url, expected, timeout=60)
    on_topic = topic_ce_ids(bootstrap, after.topics)
    staged = set(after.staged)
    declared_ids = {e for e, t in after.staged.items() if t == DECLARED}
    missing = staged - set(on_topic)
    duplicates = sum(on_topic[e] - 1 for e in staged if on_topic[e] > 1)
    outcomes = consumed_outcomes(service)
    dlq = dead_letters(bootstrap) - dlq_before
    print(
        f"\n[{title}] before: staged={len(before.staged)} unsent={before.unsent} "
        f"figures={before.figures.get(grid, 0)}+{before.figures.get(produced_grid, 0)} "
        f"inbox={len(before.inbox)}"
        f"\n[{title}] load: requested={load.requested} accepted={len(load.accepted)} "
        f"first answers={dict(load.first_answers)} retries={dict(load.retry_answers)}"
        f"\n[{title}] after: staged={len(staged)} (declared={len(declared_ids)}) "
        f"unsent={after.unsent} published distinct={len(staged) - len(missing)} "
        f"missing={len(missing)} duplicates on topic={duplicates}"
        f"\n[{title}] effects: figures {grid}={after.figures.get(grid, 0)} "
        f"(accepted {len(load.accepted)}), {produced_grid}={after.figures.get(produced_grid, 0)}"
        f" (produced {len(produced)}), inbox={len(after.inbox)}, consumer outcomes={outcomes}, "
        f"dead letters={dlq}"
    )
    assert service.proc is not None and service.proc.poll() is None, service.tail()
    assert service.starts == 1, "the service was started again"
    assert not load.refused, load.refused[:5]
    assert load.requested == len(load.accepted)
    assert after.unsent == 0, "the outbox did not drain"
    assert not missing, f"{len(missing)} staged events never reached the topic"
    # One ResidenceDeclared per accepted declaration, none for a retried request.
    assert after.declared_by_grid[grid] == len(load.accepted)
    # Effects equal the distinct events: nothing lost, nothing doubled, nothing dead-lettered.
    assert after.figures.get(grid, 0) == len(load.accepted)
    assert after.figures.get(produced_grid, 0) == len(produced)
    assert declared_ids | produced <= after.inbox
    assert len(after.inbox) == len(declared_ids) + len(produced)
    assert dlq == 0
    assert "Traceback" not in service.tail(lines=100_000)


# --------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_broker_restart_under_load_loses_and_doubles_nothing(
    fault_service: ServiceProcess,
    fault_kafka: KafkaBroker,
    fault_postgres: PostgresCluster,
    kill: bool,
) -> None:
    started = time.monotonic()
    service, bootstrap = fault_service, fault_kafka.bootstrap
    url = service.env["REGISTRATION_DATABASE_URL"]
    grid, produced_grid = f"BR-{uuid.uuid4().hex[:6]}", f"BP-{uuid.uuid4().hex[:6]}"
    property_id = new_property(service, grid)
    dlq_before = dead_letters(bootstrap)
    before = database_counts(url)
    readiness = Readiness(service.url).start()
    load = DeclarationLoad(service.url, property_id).start()
    try:
        load.wait_accepted(60, timeout=30)
        # The consumer is busy with these when the broker goes.
        produced = produce_residences(bootstrap, produced_grid, 400)
        halted, accepted_at_halt = time.monotonic(), len(load.accepted)
        fault_kafka.halt(kill=kill)
        time.sleep(3)
        back_in = fault_kafka.resume()
        resumed = time.monotonic()
        accepted_while_down = len(load.accepted) - accepted_at_halt
        load.finish(more=80)
    finally:
        load.stop()
        readiness.stop()
        if not fault_kafka.running:  # the test failed with the broker down: the next needs it
            fault_kafka.resume()
    down = readiness.between(halted, resumed)
    print(
        f"\n[broker {'SIGKILL' if kill else 'SIGTERM'}] down {resumed - halted:.1f}s "
        f"(start {back_in:.1f}s), declarations accepted while down={accepted_while_down}, "
        f"/readyz while down={Counter(a for a, _ in down)}"
    )
    # The outbox takes commands while the broker is away: the service stays ready (a
    # broker outage must not empty its Service), and /readyz says the broker is away.
    assert accepted_while_down > 0
    assert any(b.get("checks", {}).get("broker", "ok") != "ok" for _, b in down), down
    assert not any(a == "503" for a, _ in down), down
    check_and_report(
        f"broker {'SIGKILL' if kill else 'SIGTERM'}",
        service,
        bootstrap,
        url,
        load,
        grid,
        produced_grid,
        produced,
        before,
        dlq_before,
    )
    ready_in = wait_ready(service, timeout=30)
    took = time.monotonic() - started
    print(f"[broker] ready {ready_in:.1f}s after the checks; test took {took:.1f}s")


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_database_restart_under_load_loses_and_doubles_nothing(
    fault_service: ServiceProcess,
    fault_kafka: KafkaBroker,
    fault_postgres: PostgresCluster,
    mode: StopMode,
) -> None:
    started = time.monotonic()
    service, bootstrap = fault_service, fault_kafka.bootstrap
    url = service.env["REGISTRATION_DATABASE_URL"]
    grid, produced_grid = f"DR-{uuid.uuid4().hex[:6]}", f"DP-{uuid.uuid4().hex[:6]}"
    property_id = new_property(service, grid)
    dlq_before = dead_letters(bootstrap)
    before = database_counts(url)
    readiness = Readiness(service.url).start()
    load = DeclarationLoad(service.url, property_id).start()
    try:
        load.wait_accepted(60, timeout=30)
        halted = time.monotonic()
        fault_postgres.halt(mode)
        # The consumer gets these while it cannot reach its database.
        produced = produce_residences(bootstrap, produced_grid, 400)
        time.sleep(max(0.0, halted + 4 - time.monotonic()))
        unready_seen = time.monotonic()
        fault_postgres.resume()
        resumed = time.monotonic()
        ready_in = wait_ready(service, timeout=30)
        load.finish(more=80)
    finally:
        load.stop()
        readiness.stop()
        if not fault_postgres.running:  # the test failed with the database down
            fault_postgres.resume()
    down = readiness.between(halted + 1.0, unready_seen)
    print(
        f"\n[database {mode}] down {resumed - halted:.1f}s, ready {ready_in:.1f}s after; "
        f"/readyz while down={Counter(a for a, _ in down)}; "
        f"bad 5xx={load.bad_unavailable[:3]}"
    )
    # While the database is down the service says it is not ready, and why.
    assert down and all(a == "503" for a, _ in down), down
    assert all(b["checks"]["database"] != "ok" for _, b in down), down[:2]
    # Commands that could not run were refused as such: a 503, not a 500 with a traceback.
    assert load.first_answers["503"] > 0
    assert not load.bad_unavailable, load.bad_unavailable[:5]
    check_and_report(
        f"database {mode}",
        service,
        bootstrap,
        url,
        load,
        grid,
        produced_grid,
        produced,
        before,
        dlq_before,
    )
    print(f"[database] test took {time.monotonic() - started:.1f}s")
