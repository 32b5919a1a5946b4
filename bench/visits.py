"""Benchmark inspection: plan computation for the full demo district, and visits end to end.

    uv run python bench/visits.py [--buildings 2247] [--visits 400] [--concurrency 8]
        [--json PATH]

Two parts, each beside a raw baseline measured in the same run:

1. **Plans.** ``inspection.domain.sampling.draw`` over the district's 2,247 buildings (24
   grids, as the demo district has) against ``random.sample`` of the same size; then
   ``POST /plans`` over a grid holding all of them, through HTTP and PostgreSQL.
2. **Visits.** Inspection as a separate process on Apache Kafka and PostgreSQL (its
   registry fed with the buildings as registration's ``PropertyRegistered`` events on
   the topic); completed visits (two occupants, three checks each) sent at a fixed
   concurrency, counted end to end when their ``InspectionCompleted`` is on
   ``inspection.events``; against bare aiokafka producing as many records to a watched
   topic, and ``GET /healthz`` at the same concurrency.

Everything runs on 127.0.0.1, is bounded in count and time, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: tests.integration

import harness
import httpx
from aiokafka import AIOKafkaProducer
from load import TopicWatcher, now

from common.auth import mint_token
from common.envelope import Envelope
from common.identity import check_character
from devstack.kafka import KafkaBroker, acreate_topics, create_topics
from devstack.postgres import PostgresCluster
from inspection.domain.sampling import PropertyFacts, draw
from inspection.main import service as inspection
from inspection.settings import InspectionSettings
from registration.events import PropertyRegistered, RoomCapacity
from registration.main import service as registration
from tests.integration.services import SECRET, ServiceProcess

GRIDS, PLAN_SIZE, REPEAT = 24, 100, 30
LIMIT_S = 120.0  # each wait of the end-to-end part


def district(buildings: int, rng: random.Random) -> list[PropertyFacts]:
    """Buildings with signals spread like a district's: most quiet, a few risky."""
    facts = []
    for i in range(buildings):
        capacity = rng.randint(8, 40)
        declared = rng.randint(0, capacity)
        facts.append(
            PropertyFacts(
                property_id=f"B{i:05d}",
                capacity=capacity,
                residents=declared + (rng.randint(1, 6) if rng.random() < 0.05 else 0),
                declarations=declared,
                self_declared=int(declared * rng.uniform(0.6, 1.0)),
                move_ins_recent=rng.randint(0, 3),
                open_leads=1 if rng.random() < 0.03 else 0,
                last_visited_on=None if rng.random() < 0.5 else date(2026, rng.randint(1, 2), 1),
            )
        )
    return facts


def timed(fn: Any, repeat: int) -> float:
    """Median wall time of ``fn()`` in ms."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(runs), 3)


def plan_computation(buildings: int) -> dict[str, Any]:
    facts = district(buildings, random.Random(7))
    policy = InspectionSettings(jwt_secret="x" * 32).sampling_policy()
    ids = [f.property_id for f in facts]
    per_grid = facts[: buildings // GRIDS]
    as_of = date(2026, 3, 9)
    return {
        "buildings": buildings,
        "baseline_sample_ms": timed(lambda: random.Random(1).sample(ids, PLAN_SIZE), REPEAT),
        "draw_district_ms": timed(
            lambda: draw(facts, size=PLAN_SIZE, seed="s", as_of=as_of, policy=policy), REPEAT
        ),
        "draw_one_grid_ms": timed(
            lambda: draw(per_grid, size=10, seed="s", as_of=as_of, policy=policy), REPEAT
        ),
        "one_grid_buildings": len(per_grid),
    }


def number(seq: int) -> str:
    first17 = f"44030619900101{seq % 1000:03d}"
    return first17 + check_character(first17)


def registered(property_id: str, grid: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A ``PropertyRegistered`` record as registration's relay publishes it."""
    event = PropertyRegistered(
        property_id=property_id, grid_id=grid, address="Bench Lane", landlord_id="L-B",
        rooms=[RoomCapacity(room_no="101", capacity=4), RoomCapacity(room_no="102", capacity=4)],
        channel="landlord_self_declaration", registered_at=datetime.now(UTC),  # type: ignore[arg-type]
    )  # fmt: skip
    envelope = Envelope(
        type=event.ce_type(), source="/services/registration", subject=event.subject()
    )
    return event.subject().encode(), event.to_json(), envelope.headers()


async def end_to_end(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    res: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        bootstrap = stack.enter_context(KafkaBroker()).bootstrap
        database = stack.enter_context(PostgresCluster()).create_database("inspection")
        create_topics(bootstrap, [*registration.topic_names(), *inspection.topic_names()], 3)
        env = {
            "INSPECTION_DATABASE_URL": database,
            "INSPECTION_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "INSPECTION_JWT_SECRET": SECRET,
            "INSPECTION_LOG_LEVEL": "WARNING",
        }
        proc = ServiceProcess("inspection", env, tmp)
        stack.callback(proc.stop)
        proc.migrate()
        started = time.monotonic()
        proc.spawn()
        async with httpx.AsyncClient(base_url=proc.url, timeout=30) as http:
            for _ in range(int(LIMIT_S / 0.05)):
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            res["ready_s"] = round(time.monotonic() - started, 2)
            grid = "BENCH"
            ids = [str(uuid.uuid4()) for _ in range(args.buildings)]
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
            await producer.start()
            try:
                sent = now()
                for pid in ids:
                    key, value, headers = registered(pid, grid)
                    await producer.send("registration.events", value, key=key, headers=headers)
                await producer.flush()
                officer = mint_token(SECRET, sub="bench-officer", role="officer", grids=[grid],
                                     scopes=["inspection:write", "inspection:read"])  # fmt: skip
                auth = {"Authorization": f"Bearer {officer}"}
                body = {"grid_id": grid, "month": "2026-03", "size": PLAN_SIZE, "seed": "b"}

                def key() -> dict[str, str]:
                    return {**auth, "Idempotency-Key": str(uuid.uuid4())}

                for _ in range(int(LIMIT_S / 0.2)):  # until the registry holds every building
                    plan = await http.post("/plans", json=body, headers=key())
                    if plan.status_code == 201 and plan.json()["candidates"] == args.buildings:
                        break
                    await asyncio.sleep(0.2)
                res["registry_ingest_s"] = round(now() - sent, 2)
                plan_ms = []
                for _ in range(5):
                    t0 = now()
                    plan = await http.post("/plans", json=body, headers=key())
                    plan_ms.append((now() - t0) * 1000)
                    assert plan.status_code == 201, plan.text
                res["http_plan_district_ms"] = round(statistics.median(plan_ms), 1)
                res |= await visits(args, http, auth, ids, bootstrap)
                res |= await baselines(args, http, producer, bootstrap)
            finally:
                await producer.stop()
        res["log_findings"] = [line for line in proc.tail(400).splitlines() if '"error"' in line][
            :5
        ]
    return res


def visit_id_of(record: Any) -> str | None:
    headers = dict(record.headers)
    if headers.get("ce_type") != b"inspection.InspectionCompleted.v1":
        return None
    return str(json.loads(record.value)["visit_id"])


async def visits(
    args: argparse.Namespace, http: httpx.AsyncClient, auth: dict[str, str], ids: list[str],
    bootstrap: str,
) -> dict[str, Any]:  # fmt: skip
    latencies: list[float] = []
    errors: dict[str, int] = {}
    queue = list(range(args.visits))
    sent_at: dict[str, float] = {}

    async def worker() -> None:
        while queue:
            i = queue.pop()
            visit_id = str(uuid.uuid4())
            body = {
                "version": 1, "property_id": ids[i % len(ids)], "outcome": "visited",
                "captured_at": datetime.now(UTC).isoformat(), "completed": True,
                "occupants": [
                    {"room_no": "101", "id_number": number(2 * i), "full_name": "Bench A"},
                    {"room_no": "102", "id_number": number(2 * i + 1), "full_name": "Bench B"},
                ],
                "hazards": [{"item": "fire_exit_blocked", "passed": i % 3 != 0},
                            {"item": "exposed_wiring", "passed": True},
                            {"item": "no_extinguisher", "passed": True}],
            }  # fmt: skip
            t0 = now()
            sent_at[visit_id] = t0
            response = await http.put(f"/visits/{visit_id}", json=body,
                                      headers={**auth, "Idempotency-Key": visit_id})  # fmt: skip
            if response.status_code == 200:
                latencies.append(now() - t0)
            else:
                errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1

    async with TopicWatcher(bootstrap, "inspection.events", visit_id_of) as watcher:
        started = now()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        http_done = now()
        await watcher.wait_for(set(sent_at), limit_s=LIMIT_S)
        seen = [watcher.arrived[v] for v in sent_at if v in watcher.arrived]
    ok = len(latencies)
    last = max(seen) if seen else http_done
    return {
        "visits": args.visits,
        "visits_ok": ok,
        "visits_errors": errors,
        "visits_http_per_s": round(ok / (http_done - started), 1),
        "visits_e2e_per_s": round(len(seen) / (last - started), 1) if seen else 0.0,
        "visits_completed_on_topic": len(seen),
        "visit_http_p50_ms": round(harness.pct(latencies, 50) * 1000, 1),
        "visit_http_p99_ms": round(harness.pct(latencies, 99) * 1000, 1),
    }


async def baselines(
    args: argparse.Namespace, http: httpx.AsyncClient, producer: Any, bootstrap: str
) -> dict[str, Any]:
    topic = f"bench.raw.inspection.{uuid.uuid4().hex[:8]}"
    await acreate_topics(bootstrap, [topic], partitions=3)
    async with TopicWatcher(bootstrap, topic, lambda r: r.key.decode()) as watcher:
        started = now()
        for i in range(args.visits):
            await producer.send(topic, b"{}", key=f"k{i}".encode())
        await producer.flush()
        await watcher.wait_for({f"k{i}" for i in range(args.visits)}, limit_s=LIMIT_S)
        raw_rate = len(watcher.arrived) / (max(watcher.arrived.values()) - started)
    count = args.visits
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            queue.pop()
            await http.get("/healthz")

    started = now()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return {
        "raw_kafka_e2e_per_s": round(raw_rate, 1),
        "http_healthz_per_s": round(count / (now() - started), 1),
    }


def report(res: dict[str, Any]) -> None:
    p, e = res["plans"], res["e2e"]
    rows = [
        ("plan of 100 over the district, in-process", f"{p['draw_district_ms']} ms",
         f"x{p['draw_district_ms'] / p['baseline_sample_ms']:.0f} random.sample "
         f"({p['baseline_sample_ms']} ms)"),
        (f"plan of 10 over one grid ({p['one_grid_buildings']} buildings)",
         f"{p['draw_one_grid_ms']} ms", ""),
        (f"POST /plans over {p['buildings']} buildings (HTTP + PostgreSQL)",
         f"{e['http_plan_district_ms']} ms", ""),
        ("visits end to end (HTTP -> outbox -> Kafka)", f"{e['visits_e2e_per_s']}/s",
         f"{e['visits_e2e_per_s'] / e['raw_kafka_e2e_per_s']:.3f} of raw aiokafka "
         f"({e['raw_kafka_e2e_per_s']}/s)"),
        ("visits accepted over HTTP", f"{e['visits_http_per_s']}/s",
         f"{e['visits_http_per_s'] / e['http_healthz_per_s']:.3f} of GET /healthz "
         f"({e['http_healthz_per_s']}/s)"),
        ("visit HTTP p50 / p99", f"{e['visit_http_p50_ms']} / {e['visit_http_p99_ms']} ms", ""),
        ("registry ingest of the district (events -> plan)", f"{e['registry_ingest_s']} s", ""),
        ("process start to /readyz 200", f"{e['ready_s']} s", ""),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for label, value, ratio in rows:
        print(f"{label:<{width}}  {value:>14}  {ratio}")
    print(f"visits ok {e['visits_ok']} of {e['visits']}, errors {e['visits_errors']}, "
          f"on the topic {e['visits_completed_on_topic']}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=2247)
    parser.add_argument("--visits", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    harness.raise_on_sigterm()
    res: dict[str, Any] = {
        "revision": harness.git_revision(),
        "plans": plan_computation(args.buildings),
    }
    with tempfile.TemporaryDirectory() as tmp:
        res["e2e"] = asyncio.run(end_to_end(args, Path(tmp)))
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
