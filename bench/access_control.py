"""Benchmark access-control ingestion: Kafka feed -> sightings -> leads, beside raw aiokafka.

    uv run python bench/access_control.py [--entries N] [--persons M] [--properties P]
        [--declared D] [--batch-size B] [--http-entries H] [--http-batch S] [--json PATH]

Starts Apache Kafka and PostgreSQL (devstack), the registration service as a process, and:

1. registers P properties and declares D residents over HTTP (consumers off);
2. produces N entries (M persons, ~90 % at their home building, 5 % unmatched faces,
   0.5 % redelivered, 0.05 % invalid; over the last 3 days, in time order, key = property)
   to ``feeds.access-control``;
3. raw baseline: a fresh aiokafka group drains the topic, ``getmany`` + commit per batch;
4. the service (consumers on) drains the same topic: entries/s from its first applied
   entry to the last (``access_entries_total`` on /metrics), CPU of the service and of
   PostgreSQL per entry;
5. the HTTP batch endpoint: H fresh entries in batches of S, 4 requests in flight;
6. checks: every unique valid entry counted once in the sightings, leads opened.

Everything is stopped and removed at the end, on errors and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: tests.integration

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from load import register_grids
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from common.auth import mint_token
from common.identity import check_character
from devstack.kafka import KafkaBroker, create_topics
from devstack.postgres import PostgresCluster
from registration.main import service
from tests.integration.services import SECRET, ServiceProcess

FEED = "feeds.access-control"
ROOMS = [f"{floor}{n:02d}" for floor in (1, 2) for n in range(1, 6)]
TARGET_RATE = 3000.0  # entries/s: "several thousand per second sustained" on one instance
DRAIN_LIMIT_S = 600.0
METRIC = re.compile(
    r'^access_entries_total\{channel="(?P<channel>\w+)",outcome="(?P<outcome>\w+)"\} (?P<v>\S+)$',
    re.M,
)


def identity_number(seq: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=seq // 1000)
    first17 = f"440306{born:%Y%m%d}{seq % 1000:03d}"
    return first17 + check_character(first17)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))]


# -- processes and their CPU -------------------------------------------------------------------


def proc_cpu(pid: int, *, children: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children:  # reaped children (PostgreSQL backends that exited)
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu(pg: PostgresCluster) -> float:
    """CPU seconds of the postmaster and every backend and worker it runs (and ran)."""
    postmaster = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    total = proc_cpu(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class Cpu:
    service: float = 0.0
    postgres: float = 0.0
    bench: float = 0.0


def cpu_now(svc: ServiceProcess, pg: PostgresCluster) -> Cpu:
    assert svc.proc is not None
    return Cpu(proc_cpu(svc.proc.pid), postgres_cpu(pg), time.process_time())


def cpu_since(before: Cpu, svc: ServiceProcess, pg: PostgresCluster) -> Cpu:
    after = cpu_now(svc, pg)
    return Cpu(
        after.service - before.service,
        after.postgres - before.postgres,
        after.bench - before.bench,
    )


# -- data ---------------------------------------------------------------------------------------


@dataclass
class Workload:
    properties: list[str]
    persons: list[str]
    home: list[int]
    records: list[tuple[bytes, bytes]] = field(default_factory=list)  # (key, value)
    unique_valid: int = 0
    faces: int = 0
    duplicates: int = 0
    invalid: int = 0


def entry_body(prop: str, gate: int, at: datetime, number: str | None, face: str | None) -> bytes:
    body: dict[str, Any] = {
        "device_id": f"gate-{prop[:8]}-{gate}",
        "property_id": prop,
        "direction": "in" if gate == 0 else "out",
        "at": at.isoformat(),
    }
    if face is not None:
        body["face_token"] = face
    else:
        body["id_number"] = number
    return json.dumps(body, separators=(",", ":")).encode()


def generate(
    w: Workload, n: int, rng: random.Random, now: datetime, days: float = 3.0
) -> list[tuple[bytes, bytes]]:
    """``n`` entries over the last ``days``, in time order, with redeliveries and invalid
    ones; appended to ``w.records`` and returned."""
    span = timedelta(days=days).total_seconds() - 60
    planned = sorted(now - timedelta(seconds=60 + rng.random() * span) for _ in range(n))
    start = len(w.records)
    for at in planned:
        p = rng.randrange(len(w.persons))
        prop = w.home[p] if rng.random() < 0.9 else rng.randrange(len(w.properties))
        prop_id, gate = w.properties[prop], rng.randrange(2)
        roll = rng.random()
        if roll < 0.05:
            value, w.faces = entry_body(prop_id, gate, at, None, f"face-{p}"), w.faces + 1
            w.unique_valid += 1
        elif roll < 0.0505:
            bad = w.persons[p][:17] + ("0" if w.persons[p][17] != "0" else "1")
            value, w.invalid = entry_body(prop_id, gate, at, bad, None), w.invalid + 1
        else:
            value = entry_body(prop_id, gate, at, w.persons[p], None)
            w.unique_valid += 1
        w.records.append((prop_id.encode(), value))
        if rng.random() < 0.005:  # a device re-sends it a little later
            w.records.append((prop_id.encode(), value))
            w.duplicates += 1
    return w.records[start:]


# -- phases -------------------------------------------------------------------------------------


async def setup_registry(url: str, w: Workload, declared: int, rng: random.Random) -> None:
    """Properties (10 rooms each) and declared residents at their home, over HTTP."""
    landlord = mint_token(
        SECRET, sub="bench-landlord", role="landlord", party_id="L-BENCH",
        scopes=["registration:write", "registration:read"],
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {landlord}"}
    gate = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                r = await http.post(
                    path, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
                )
                r.raise_for_status()
                result: dict[str, Any] = r.json()
                return result

        admin = mint_token(SECRET, sub="bench-admin", role="admin", scopes=["registration:write"])
        await register_grids(http, admin, [f"BENCH-{g:02d}" for g in range(20)])
        created = await asyncio.gather(
            *(
                post(
                    "/properties",
                    {
                        "address": f"{i} Bench Lane",
                        "grid_id": f"BENCH-{i % 20:02d}",
                        "landlord_id": "L-BENCH",
                        "rooms": [{"room_no": r, "capacity": 6} for r in ROOMS],
                    },
                )
                for i in range(len(w.properties))
            )
        )
        w.properties[:] = [c["property_id"] for c in created]
        chosen = rng.sample(range(len(w.persons)), declared)
        await asyncio.gather(
            *(
                post(
                    f"/properties/{w.properties[w.home[p]]}/residences",
                    {
                        "id_number": w.persons[p],
                        "name": "测试",
                        "room_no": ROOMS[p % len(ROOMS)],
                        "moved_in_on": (date.today() - timedelta(days=30)).isoformat(),
                    },
                )
                for p in chosen
            )
        )


async def produce(bootstrap: str, records: list[tuple[bytes, bytes]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        acks = [await producer.send(FEED, value, key=key) for key, value in records]
        await asyncio.gather(*acks)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def raw_drain(bootstrap: str, total: int, batch: int) -> tuple[float, float]:
    """(records/s, bench CPU µs per record) of getmany + commit per batch, fresh group."""
    consumer = AIOKafkaConsumer(
        FEED,
        bootstrap_servers=bootstrap,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        got, first, last, cpu = 0, 0.0, 0.0, 0.0
        deadline = time.monotonic() + DRAIN_LIMIT_S
        while got < total and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000, max_records=batch)
            if not batches:
                continue
            if not first:
                first, cpu = time.perf_counter(), time.process_time()
            got += sum(len(records) for records in batches.values())
            await consumer.commit()
            last = time.perf_counter()
        cpu = time.process_time() - cpu
    finally:
        await consumer.stop()
    return (got / (last - first) if last > first else 0.0), cpu * 1e6 / max(1, got)


def scrape(http: httpx.Client, channel: str) -> dict[str, float]:
    text_ = http.get("/metrics").text
    return {m["outcome"]: float(m["v"]) for m in METRIC.finditer(text_) if m["channel"] == channel}


def service_drain(
    svc: ServiceProcess, pg: PostgresCluster, total: int, base: float = 0.0
) -> tuple[float, Cpu, dict[str, float], float]:
    """(entries/s, CPU per entry, outcome counts, seconds) from the first applied entry to
    the last; rate and CPU over the entries processed after the first sample."""
    with httpx.Client(base_url=svc.url, timeout=10) as http:
        deadline = time.monotonic() + DRAIN_LIMIT_S
        first, seen0 = 0.0, 0.0
        cpu0 = Cpu()
        counts: dict[str, float] = {}
        done_at = 0.0
        while time.monotonic() < deadline:
            counts = scrape(http, "kafka")
            processed = sum(counts.values()) - base
            if processed and not first:
                first, cpu0, seen0 = time.perf_counter(), cpu_now(svc, pg), processed
            if processed >= total:
                done_at = time.perf_counter()
                break
            time.sleep(0.1)
        cpu = cpu_since(cpu0, svc, pg)
    if not done_at:
        raise RuntimeError(f"the service processed {sum(counts.values())} of {total} entries")
    seconds, measured = done_at - first, total - seen0
    per_entry = Cpu(cpu.service / measured, cpu.postgres / measured, cpu.bench / measured)
    return measured / seconds, per_entry, counts, seconds


async def http_phase(
    url: str, w: Workload, n: int, batch: int, rng: random.Random
) -> tuple[float, list[float], dict[str, int]]:
    """(entries/s, request latencies, totals) of POST /feeds/access-control/entries."""
    system = mint_token(SECRET, sub="bench-feed", role="system", scopes=["feeds:write"])
    now = datetime.now(UTC)
    bodies = []
    for start in range(0, n, batch):
        entries = []
        for _ in range(min(batch, n - start)):
            p = rng.randrange(len(w.persons))
            prop = w.home[p] if rng.random() < 0.9 else rng.randrange(len(w.properties))
            at = now - timedelta(seconds=60 + rng.random() * 2 * 86400)
            entries.append(json.loads(entry_body(w.properties[prop], 0, at, w.persons[p], None)))
        bodies.append(json.dumps({"entries": entries}).encode())
    latencies: list[float] = []
    totals = {"applied": 0, "duplicates": 0, "rejected": 0, "leads_opened": 0}
    gate = asyncio.Semaphore(4)
    limits = httpx.Limits(max_connections=6, keepalive_expiry=4.0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def post(body: bytes) -> None:
            async with gate:
                started = time.perf_counter()
                r = await http.post(
                    "/feeds/access-control/entries",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {system}",
                        "Idempotency-Key": str(uuid.uuid4()),
                        "Content-Type": "application/json",
                    },
                )
                latencies.append(time.perf_counter() - started)
                r.raise_for_status()
                for k in totals:
                    totals[k] += r.json()[k]

        started = time.perf_counter()
        await asyncio.gather(*(post(b) for b in bodies))
        rate = n / (time.perf_counter() - started)
    return rate, latencies, totals


async def database_facts(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT (SELECT coalesce(sum(entries), 0) FROM access_sightings), "
                        "(SELECT count(*) FROM access_sightings), "
                        "(SELECT count(*) FROM access_entry_keys), "
                        "(SELECT count(*) FROM leads), "
                        "(SELECT count(*) FROM outbox WHERE ce_type LIKE "
                        "'registration.UnregisteredOccupantSuspected%')"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    keys = ("entries_counted", "sighting_rows", "entry_keys", "leads", "lead_events")
    return dict(zip(keys, (int(v) for v in row), strict=True))


def log_errors(log_dir: Path) -> int:
    """Error lines of the service's logs, besides one per dead-lettered entry."""
    count = 0
    for path in log_dir.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                count += "Traceback" in line
                continue
            count += (
                entry.get("level") == "error" and entry.get("event") != "consumer.dead_lettered"
            )
    return count


# -- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path) -> dict[str, Any]:
    res: dict[str, Any] = {"load_avg_start": float(Path("/proc/loadavg").read_text().split()[0])}
    rng = random.Random(args.seed)
    kafka = stack.enter_context(KafkaBroker())
    pg = stack.enter_context(PostgresCluster())
    create_topics(kafka.bootstrap, service.topic_names(), partitions=3)
    url = pg.create_database("registration")
    env = {
        "REGISTRATION_DATABASE_URL": url,
        "REGISTRATION_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "REGISTRATION_JWT_SECRET": SECRET,
        "REGISTRATION_LOG_LEVEL": "WARNING",
        "REGISTRATION_ACCESS_CONSUMER_BATCH_SIZE": str(args.batch_size),
        "REGISTRATION_ACCESS_BATCH_MAX_ENTRIES": str(max(args.http_batch, 5000)),
    }
    svc = ServiceProcess("registration", env, tmp)
    stack.callback(svc.stop)
    svc.migrate()

    w = Workload(
        properties=[""] * args.properties,
        persons=[identity_number(i) for i in range(args.persons)],
        home=[rng.randrange(args.properties) for _ in range(args.persons)],
    )
    print(
        f"[bench] registering {args.properties} properties, {args.declared} residents", flush=True
    )
    svc.start({"REGISTRATION_RUN_CONSUMERS": "false"})
    asyncio.run(setup_registry(svc.url, w, args.declared, rng))
    svc.stop()

    generate(w, args.entries, rng, datetime.now(UTC))
    total = len(w.records)
    first_set = {
        "unique_valid": w.unique_valid,
        "faces": w.faces,
        "duplicates": w.duplicates,
        "invalid": w.invalid,
    }
    steady = generate(w, args.entries // 2, rng, datetime.now(UTC), days=1.0)
    print(f"[bench] producing {total} records to {FEED}", flush=True)
    res["produce_rate"] = round(asyncio.run(produce(kafka.bootstrap, w.records[:total])))
    res |= {
        "records": total,
        **first_set,
        "record_bytes": round(sum(len(v) for _, v in w.records[:total]) / total),
    }

    print("[bench] raw aiokafka drain (getmany + commit per batch)", flush=True)
    raw_rate, raw_cpu_us = asyncio.run(raw_drain(kafka.bootstrap, total, args.batch_size))
    res["raw_rate"], res["raw_cpu_us"] = round(raw_rate), round(raw_cpu_us, 1)

    print("[bench] service drain (batch consumer)", flush=True)
    svc.start()
    rate, cpu, counts, seconds = service_drain(svc, pg, total)
    res |= {
        "service_rate": round(rate),
        "service_seconds": round(seconds, 1),
        "ratio": round(rate / raw_rate, 3) if raw_rate else None,
        "service_cpu_us": round(cpu.service * 1e6, 1),
        "postgres_cpu_us": round(cpu.postgres * 1e6, 1),
        "kafka_outcomes": {k: int(v) for k, v in counts.items()},
    }
    res["leads_after_first"] = asyncio.run(database_facts(url))["leads"]

    print(f"[bench] steady state: {len(steady)} more entries, leads already open", flush=True)
    asyncio.run(produce(kafka.bootstrap, steady))
    rate, cpu, counts, seconds = service_drain(svc, pg, len(steady), base=float(total))
    res |= {
        "steady_records": len(steady),
        "steady_rate": round(rate),
        "steady_ratio": round(rate / raw_rate, 3) if raw_rate else None,
        "steady_service_cpu_us": round(cpu.service * 1e6, 1),
        "steady_postgres_cpu_us": round(cpu.postgres * 1e6, 1),
    }

    print(f"[bench] HTTP: {args.http_entries} entries in batches of {args.http_batch}", flush=True)
    before = cpu_now(svc, pg)
    http_rate, latencies, totals = asyncio.run(
        http_phase(svc.url, w, args.http_entries, args.http_batch, rng)
    )
    http_cpu = cpu_since(before, svc, pg)
    res |= {
        "http_rate": round(http_rate),
        "http_p50_ms": round(pct(latencies, 50) * 1000),
        "http_p99_ms": round(pct(latencies, 99) * 1000),
        "http_service_cpu_us": round(http_cpu.service * 1e6 / args.http_entries, 1),
        "http_postgres_cpu_us": round(http_cpu.postgres * 1e6 / args.http_entries, 1),
        "http_totals": totals,
    }
    time.sleep(1.0)
    res |= asyncio.run(database_facts(url))
    res["expected_counted"] = w.unique_valid + totals["applied"]
    res["leads_steady"] = res["leads"] - res["leads_after_first"] - totals["leads_opened"]
    res["service_log_problems"] = log_errors(tmp)
    res["load_avg_end"] = float(Path("/proc/loadavg").read_text().split()[0])
    return res


def report(args: argparse.Namespace, r: dict[str, Any]) -> None:
    ok = r["entries_counted"] == r["expected_counted"]
    target = "PASS" if r["steady_rate"] >= TARGET_RATE else "MISS"
    lines = [
        "",
        f"access-control ingestion, Kafka 4.1 + PostgreSQL 15, one service process, "
        f"{os.cpu_count()} cores, load {r['load_avg_start']} -> {r['load_avg_end']}",
        f"workload: {r['records']} records ({r['record_bytes']} B avg) = {r['unique_valid']} "
        f"unique valid ({r['faces']} unmatched faces) + {r['duplicates']} redelivered + "
        f"{r['invalid']} invalid; {args.persons} persons, {args.properties} properties, "
        f"{args.declared} declared residents; consumer batch {args.batch_size}",
        "",
        f"{'':34}{'entries/s':>12}{'CPU µs/entry':>16}",
        f"{'produce (aiokafka, acks=all)':34}{r['produce_rate']:>12}",
        f"{'raw aiokafka drain, commit/batch':34}{r['raw_rate']:>12}{r['raw_cpu_us']:>16}",
        f"{'service drain, first (opens leads)':34}{r['service_rate']:>12}"
        f"{r['service_cpu_us']:>16}  (+ PostgreSQL {r['postgres_cpu_us']}); "
        f"ratio to raw {r['ratio']}; {r['leads_after_first']} leads opened",
        f"{'service drain, steady state':34}{r['steady_rate']:>12}"
        f"{r['steady_service_cpu_us']:>16}  (+ PostgreSQL {r['steady_postgres_cpu_us']}); "
        f"ratio to raw {r['steady_ratio']}; {r['leads_steady']} leads opened",
        f"{'HTTP batches of ' + str(args.http_batch) + ', 4 in flight':34}{r['http_rate']:>12}"
        f"{r['http_service_cpu_us']:>16}  (+ PostgreSQL {r['http_postgres_cpu_us']}); "
        f"request p50 {r['http_p50_ms']} ms, p99 {r['http_p99_ms']} ms",
        "",
        f"kafka outcomes {r['kafka_outcomes']}; http {r['http_totals']}",
        f"sightings: {r['entries_counted']} entries counted in {r['sighting_rows']} rows "
        f"(expected {r['expected_counted']}: {'OK' if ok else 'MISMATCH'}); "
        f"{r['entry_keys']} entry keys; {r['leads']} leads, {r['lead_events']} lead events",
        f"service log errors (besides dead-lettered entries): {r['service_log_problems']}",
        f"{target}: steady-state drain >= {TARGET_RATE:.0f} entries/s on one instance "
        f"(a city of 10 million: ~30 million entries/day = ~350/s on average, "
        f"peaks several times that)",
    ]
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--properties", type=int, default=2_000)
    parser.add_argument("--declared", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--http-entries", type=int, default=50_000)
    parser.add_argument("--http-batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    def on_sigterm(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-ac-") as tmp:
        result = run(args, stack, Path(tmp))
    report(args, result)
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **result}))
    return 0 if result["entries_counted"] == result["expected_counted"] else 1


if __name__ == "__main__":
    sys.exit(main())
