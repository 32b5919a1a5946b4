"""Benchmark penalties: breaches to decisions end to end, and the office's reads and checks.

    uv run python bench/cases.py [--breaches 1000] [--checks 200] [--concurrency 8]
        [--json PATH]

Penalties runs as a separate process on Apache Kafka and PostgreSQL; everything else is
the bench, each number beside a baseline measured in the same run:

1. **Breaches.** Inspection's ``HazardFound`` events (two per visit: one case, two
   counts) produced onto ``inspection.events`` for buildings penalties learnt from
   ``registration.events`` (four visits each: the later ones are repeats, fined);
   counted end to end when each count's decision (``RectificationOrdered``,
   ``PenaltyIssued``) is on ``penalties.events`` (inbox -> case, count, decision,
   notice -> outbox -> relay),
   against bare aiokafka producing as many records to a watched topic.
2. **Reads and checks over HTTP**, at a fixed concurrency: ``GET /cases/{id}`` (audited:
   one write per read), ``POST /orders/{id}/checks`` (an order verified, its case closed),
   against ``GET /healthz`` at the same concurrency.
3. **The process**: start to ``/readyz``, RSS idle and at the end, CPU per breach.

Everything runs on 127.0.0.1, is bounded in count and time, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: tests.integration

import harness
import httpx
from aiokafka import AIOKafkaProducer
from load import TopicWatcher, now

from common.auth import mint_token
from common.envelope import Envelope
from common.events import Event
from devstack.kafka import KafkaBroker, acreate_topics, create_topics
from devstack.postgres import PostgresCluster
from inspection.events import HazardFound, Severity
from inspection.main import service as inspection
from penalties.main import service as penalties
from registration.events import PropertyRegistered, RoomCapacity
from registration.main import service as registration
from tests.integration.services import SECRET, ServiceProcess

LIMIT_S = 180.0  # each wait
GRID = "BENCH"


def record(event: Event, source: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    envelope = Envelope(type=event.ce_type(), source=source, subject=event.subject())
    return event.subject().encode(), event.to_json(), envelope.headers()


def building(property_id: str) -> Event:
    return PropertyRegistered(
        property_id=property_id, grid_id=GRID, address="Bench Lane", landlord_id="L-B",
        rooms=[RoomCapacity(room_no="101", capacity=4)],
        channel="landlord_self_declaration", registered_at=datetime.now(UTC),  # type: ignore[arg-type]
    )  # fmt: skip


def hazard(property_id: str, visit_id: str, item: str) -> Event:
    found = datetime.now(UTC)
    return HazardFound(
        finding_id=f"{visit_id}:{item}", visit_id=visit_id, property_id=property_id,
        grid_id=GRID, item=item, category="fire", severity=Severity.MEDIUM,
        correction_working_days=5, correct_by=date.today() + timedelta(days=7),
        found_at=found, policy_version="bench",
    )  # fmt: skip


DECISIONS = {
    f"penalties.{name}.v1".encode()
    for name in ("RectificationOrdered", "PenaltyIssued", "WarningIssued")
}


def count_of(r: Any) -> str | None:
    """The count a decision is about (a building's later visits are repeats: fined)."""
    if dict(r.headers).get("ce_type") not in DECISIONS:
        return None
    return str(json.loads(r.value)["count_id"])


class Process:
    """Memory and CPU of a child process, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def memory_mb(self) -> tuple[float, float]:
        text = Path(f"/proc/{self.pid}/status").read_text()
        status = dict(line.split(":", 1) for line in text.splitlines())
        rss, hwm = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
        return round(rss, 1), round(hwm, 1)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        bootstrap = stack.enter_context(KafkaBroker()).bootstrap
        database = stack.enter_context(PostgresCluster()).create_database("penalties")
        topics = [*registration.topic_names(), *inspection.topic_names()]
        create_topics(bootstrap, [*topics, *penalties.topic_names()], 3)
        env = {
            "PENALTIES_DATABASE_URL": database,
            "PENALTIES_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PENALTIES_JWT_SECRET": SECRET,
            "PENALTIES_LOG_LEVEL": "WARNING",
        }
        proc = ServiceProcess("penalties", env, tmp)
        stack.callback(proc.stop)
        proc.migrate()
        started = time.monotonic()
        proc.spawn()
        assert proc.proc is not None
        process = Process(proc.proc.pid)
        async with httpx.AsyncClient(base_url=proc.url, timeout=30) as http:
            for _ in range(int(LIMIT_S / 0.05)):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            res["ready_s"] = round(time.monotonic() - started, 2)
            await asyncio.sleep(3)
            res["rss_idle_mb"] = process.memory_mb()[0]
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
            await producer.start()
            try:
                res |= await breaches(args, producer, bootstrap, process)
                res |= await office(args, http)
                res |= await raw_kafka(args, producer, bootstrap)
            finally:
                await producer.stop()
        res["rss_end_mb"], res["rss_peak_mb"] = process.memory_mb()
        res["log_findings"] = [line for line in proc.tail(400).splitlines() if "error" in line][:5]
    return res


async def breaches(
    args: argparse.Namespace, producer: AIOKafkaProducer, bootstrap: str, process: Process
) -> dict[str, Any]:
    visits = args.breaches // 2
    buildings = [str(uuid.uuid4()) for _ in range(max(1, visits // 4))]
    for pid in buildings:
        key, value, headers = record(building(pid), "/services/registration")
        await producer.send("registration.events", value, key=key, headers=headers)
    await producer.flush()
    await asyncio.sleep(2)  # the buildings first (a notice's address); not timed
    cpu_before = process.cpu_s()
    async with TopicWatcher(bootstrap, "penalties.events", count_of) as watcher:
        started = now()
        for v in range(visits):
            pid, visit_id = buildings[v % len(buildings)], str(uuid.uuid4())
            for item in ("fire_exit_blocked", "no_extinguisher"):
                key, value, headers = record(hazard(pid, visit_id, item), "/services/inspection")
                await producer.send("inspection.events", value, key=key, headers=headers)
        await producer.flush()
        expected = visits * 2
        for _ in range(int(LIMIT_S / 0.1)):
            if len(watcher.arrived) >= expected:
                break
            await asyncio.sleep(0.1)
        arrived = len(watcher.arrived)
        last = max(watcher.arrived.values()) if arrived else now()
    cpu = process.cpu_s() - cpu_before
    return {
        "breaches": expected,
        "breaches_decided": arrived,
        "breaches_e2e_per_s": round(arrived / (last - started), 1) if arrived else 0.0,
        "service_cpu_ms_per_breach": round(cpu * 1000 / max(arrived, 1), 2),
    }


async def office(args: argparse.Namespace, http: httpx.AsyncClient) -> dict[str, Any]:
    officer = mint_token(SECRET, sub="bench-officer", role="officer", grids=[GRID],
                         scopes=["penalties:read", "penalties:write"])  # fmt: skip
    auth = {"Authorization": f"Bearer {officer}"}
    cases = (await http.get(f"/cases?grid_id={GRID}&limit=1000", headers=auth)).json()["cases"]
    listed = await http.get(f"/orders?grid_id={GRID}&limit=1000", headers=auth)
    orders = listed.json()["orders"]

    async def closed_loop(requests: list[Any]) -> tuple[float, list[float], int]:
        latencies: list[float] = []
        errors = 0
        queue = list(requests)

        async def worker() -> None:
            nonlocal errors
            while queue:
                make = queue.pop()
                t0 = now()
                response = await make()
                if response.status_code < 300:
                    latencies.append(now() - t0)
                else:
                    errors += 1

        started = now()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return len(latencies) / (now() - started), latencies, errors

    def read(case_id: str) -> Any:
        return lambda: http.get(f"/cases/{case_id}", headers=auth)

    def check(order_id: str) -> Any:
        headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
        body = {"rectified": True}
        return lambda: http.post(f"/orders/{order_id}/checks", json=body, headers=headers)

    n = args.checks
    reads = [read(cases[i % len(cases)]["case_id"]) for i in range(n)] if cases else []
    read_rate, read_lat, read_err = await closed_loop(reads)
    checks = [check(o["order_id"]) for o in orders[:n]]
    check_rate, check_lat, check_err = await closed_loop(checks)
    health_rate, _, _ = await closed_loop([lambda: http.get("/healthz") for _ in range(n)])
    return {
        "case_reads_per_s": round(read_rate, 1),
        "case_read_p50_ms": round(harness.pct(read_lat, 50) * 1000, 1),
        "case_read_p99_ms": round(harness.pct(read_lat, 99) * 1000, 1),
        "case_read_errors": read_err,
        "checks": len(checks),
        "checks_per_s": round(check_rate, 1),
        "check_p50_ms": round(harness.pct(check_lat, 50) * 1000, 1),
        "check_p99_ms": round(harness.pct(check_lat, 99) * 1000, 1),
        "check_errors": check_err,
        "healthz_per_s": round(health_rate, 1),
    }


async def raw_kafka(
    args: argparse.Namespace, producer: AIOKafkaProducer, bootstrap: str
) -> dict[str, Any]:
    topic = f"bench.raw.penalties.{uuid.uuid4().hex[:8]}"
    await acreate_topics(bootstrap, [topic], partitions=3)
    count = (args.breaches // 2) * 2
    async with TopicWatcher(bootstrap, topic, lambda r: r.key.decode()) as watcher:
        started = now()
        for i in range(count):
            await producer.send(topic, b"{}", key=f"k{i}".encode())
        await producer.flush()
        await watcher.wait_for({f"k{i}" for i in range(count)}, limit_s=LIMIT_S)
        rate = len(watcher.arrived) / (max(watcher.arrived.values()) - started)
    return {"raw_kafka_e2e_per_s": round(rate, 1)}


def report(r: dict[str, Any]) -> None:
    rows = [
        ("breaches -> decisions on the topic", f"{r['breaches_e2e_per_s']}/s",
         f"{r['breaches_e2e_per_s'] / r['raw_kafka_e2e_per_s']:.3f} of raw aiokafka "
         f"({r['raw_kafka_e2e_per_s']}/s)"),
        ("service CPU per breach", f"{r['service_cpu_ms_per_breach']} ms", ""),
        ("GET /cases/{id} (audited)", f"{r['case_reads_per_s']}/s",
         f"{r['case_reads_per_s'] / r['healthz_per_s']:.3f} of GET /healthz "
         f"({r['healthz_per_s']}/s)"),
        ("case read p50 / p99", f"{r['case_read_p50_ms']} / {r['case_read_p99_ms']} ms", ""),
        ("POST /orders/{id}/checks (verified, case closed)", f"{r['checks_per_s']}/s",
         f"{r['checks_per_s'] / r['healthz_per_s']:.3f} of GET /healthz"),
        ("check p50 / p99", f"{r['check_p50_ms']} / {r['check_p99_ms']} ms", ""),
        ("process start to /readyz 200", f"{r['ready_s']} s", "budget 5 s"),
        ("RSS idle / end / peak", f"{r['rss_idle_mb']} / {r['rss_end_mb']} / "
         f"{r['rss_peak_mb']} MB", "budget idle 150 MB"),
    ]  # fmt: skip
    width = max(len(row[0]) for row in rows)
    for label, value, ratio in rows:
        print(f"{label:<{width}}  {value:>22}  {ratio}")
    print(f"breaches decided {r['breaches_decided']} of {r['breaches']}; errors: reads "
          f"{r['case_read_errors']}, checks {r['check_errors']} of {r['checks']}")  # fmt: skip
    for line in r["log_findings"]:
        print("log:", line[:200])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaches", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    harness.raise_on_sigterm()
    with tempfile.TemporaryDirectory() as tmp:
        res = {"revision": harness.git_revision(), **asyncio.run(run(args, Path(tmp)))}
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
