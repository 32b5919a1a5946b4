"""Benchmark the declaration path: HTTP -> PostgreSQL + outbox -> Kafka -> figures consumer.

    uv run python bench/declarations.py [--requests N] [--rate R] [--concurrency C]
        [--broker kafka|embedded] [--bootstrap HOST:PORT] [--database-url URL] [--json PATH]

Starts its own broker and database (unless given), measures a bare-aiokafka baseline on
the same broker, then the registration service as a separate process, and prints one
table with ratios against the baseline and PASS/MISS lines for the budgets. See README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: tests.integration

import harness
import httpx
import load
import raw_kafka

from common.auth import mint_token
from registration.events import TOPIC
from tests.integration.services import SECRET

PROPERTIES, WARMUP = 20, 50
GRACE_S = 20.0  # after the last paced send, in-flight work gets this long; then it is cut
FLAT_LIMIT_S = 20.0  # the flat-out run stops sending after this long
APPLY_WAIT_S = 15.0  # after the load, the figures consumer gets this long to catch up
DRAIN_LIMIT_S = 12.0  # the consumer-alone replay is sampled for this long
BUDGETS = (  # (label, result key, limit, unit)
    ("idle RSS", "rss_idle_mb", 150.0, "MB"),
    ("process start to /readyz 200", "ready_s", 5.0, "s"),
    ("declaration HTTP p99 at the paced rate", "http_paced_p99_ms", 100.0, "ms"),
)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def latency_stats(prefix: str, values: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_{k}_ms": ms(harness.pct(values, q))
        for k, q in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
    }


def phase_stats(
    name: str, phase: load.Phase, watcher: load.TopicWatcher, applied_at: float | None, cpu_s: float
) -> dict[str, Any]:
    """One load phase's numbers; cut-off requests count with their age (a lower bound)."""
    e2e = [watcher.arrived[r] - t for r, t in phase.sent_at.items() if r in watcher.arrived]
    ok, wall = len(phase.latencies), phase.finished - phase.started
    return (
        latency_stats(f"http_{name}", phase.latencies + phase.cut)
        | latency_stats(f"e2e_{name}", e2e)
        | {
            f"{name}_ok": ok,
            f"{name}_cut": len(phase.cut),
            f"{name}_errors": dict(phase.errors),
            f"{name}_error_samples": phase.error_samples,
            f"{name}_rate": round(ok / wall, 1) if wall > 0 else 0.0,
            f"{name}_client_lag_max_ms": ms(phase.client_lag_max),
            f"{name}_events_missing": len(phase.sent_at.keys() - watcher.arrived.keys()),
            f"{name}_subject_mismatches": sum(
                watcher.subject.get(r, p) != p for r, p in phase.property_of.items()
            ),
            f"{name}_applied_s": round(applied_at - phase.started, 2) if applied_at else None,
            f"{name}_service_cpu_ms_per_decl": round(cpu_s * 1000 / ok, 1) if ok else None,
        }
    )


async def service_load(
    args: argparse.Namespace, st: harness.Stack, svc: harness.Service
) -> dict[str, Any]:
    """Register properties, warm up, then the paced and the flat-out declaration runs."""
    grid = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    landlord = mint_token(
        SECRET,
        sub="bench-landlord",
        role="landlord",
        party_id="L-BENCH",
        scopes=["registration:write", "registration:read"],
    )
    officer = mint_token(
        SECRET, sub="bench-officer", role="officer", grids=[grid], scopes=["registration:read"]
    )
    # Keep-alive shorter than uvicorn's 5 s, so the client never reuses a closing connection.
    limits = httpx.Limits(max_connections=args.concurrency + 2, keepalive_expiry=4.0)
    timeout = httpx.Timeout(60.0, pool=None)  # queueing is bounded by the cut-offs instead
    out: dict[str, Any] = {}
    phases: dict[str, load.Phase] = {}
    async with (
        load.TopicWatcher(st.bootstrap, TOPIC, load.residence_id) as watcher,
        httpx.AsyncClient(base_url=svc.url, limits=limits, timeout=timeout) as http,
    ):
        properties = []
        for i in range(PROPERTIES):
            r = await http.post(
                "/properties",
                json={
                    "address": f"Bench Lane {i}",
                    "grid_id": grid,
                    "landlord_id": "L-BENCH",
                    "rooms": [{"room_no": room, "capacity": 4} for room in load.ROOMS],
                },
                headers={
                    "Authorization": f"Bearer {landlord}",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            r.raise_for_status()
            properties.append(r.json()["property_id"])
        declarer = load.Declarer(http, landlord, properties, args.concurrency)
        applied = len((await declarer.closed(WARMUP, 4, limit_s=60)).latencies)
        figures = load.Figures(http, officer, grid)
        await figures.sample_until(applied, limit_s=30)
        sampler = asyncio.create_task(figures.sample_until(10**9, limit_s=600))
        runs = {
            "paced": lambda: declarer.paced(args.requests, args.rate, GRACE_S),
            "flat": lambda: declarer.closed(args.requests, args.concurrency, FLAT_LIMIT_S),
        }
        for name, start in runs.items():
            cpu, bench_cpu = svc.cpu_seconds(), time.process_time()
            phases[name] = phase = await start()
            applied += len(phase.latencies)
            out[f"{name}_target"] = applied
            out[f"{name}_cpu_s"] = svc.cpu_seconds() - cpu
            out[f"{name}_bench_cpu_pct"] = round(
                100 * (time.process_time() - bench_cpu) / (phase.finished - phase.started), 1
            )
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
        await figures.sample_until(applied, limit_s=APPLY_WAIT_S)
        await watcher.wait_for(set().union(*(p.sent_at for p in phases.values())), limit_s=10)
    for name, phase in phases.items():
        out |= phase_stats(
            name, phase, watcher, figures.reached(out[f"{name}_target"]), out[f"{name}_cpu_s"]
        )
    return out | {
        "event_size_bytes": round(sum(watcher.sizes) / max(1, len(watcher.sizes))),
        "declarations_total": applied,
        "applied_at_end": figures.samples[-1][1] if figures.samples else 0,
        "applied_rate_under_load": round(figures.rate(), 1),
        "grid": grid,
        "officer": officer,
    }


async def drain(url: str, officer: str, grid: str, total: int) -> float:
    """Applied/s of a consumer-only process replaying the topic into a fresh database."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        figures = load.Figures(http, officer, grid)
        await figures.sample_until(total, limit_s=DRAIN_LIMIT_S)
    return round(figures.rate(), 1)


def run(args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path) -> dict[str, Any]:
    res: dict[str, Any] = {
        "requests": args.requests,
        "rate": args.rate,
        "concurrency": args.concurrency,
        "load_avg_start": harness.load_average(),
    }
    started = time.monotonic()
    st = harness.open_stack(args, stack, tmp)
    res["stack"] = st.kind
    print(
        f"[bench] {st.kind} up in {time.monotonic() - started:.1f} s; raw aiokafka baseline",
        flush=True,
    )
    raw = asyncio.run(
        raw_kafka.run_raw(
            st.bootstrap,
            st.idempotent,
            uuid.uuid4().hex[:8],
            args.requests,
            args.rate,
            grace_s=GRACE_S,
        )
    )
    res |= latency_stats("raw_visible", raw.visible) | latency_stats("raw_consumed", raw.consumed)
    res |= {
        "raw_record_bytes": raw.size,
        "raw_consumed_cut": raw.consumed_cut,
        "raw_produce_rate": round(raw.produce_rate, 1),
        "raw_consume_rate": round(raw.consume_rate, 1),
    }

    print("[bench] registration service: paced, then flat out", flush=True)
    svc = harness.Service(harness.service_env(st, st.database_url), tmp / "svc", stack)
    res["ready_s"] = round(svc.start(), 2)
    time.sleep(1.0)
    res["rss_idle_mb"] = round(svc.memory_mb()[0], 1)
    res |= asyncio.run(service_load(args, st, svc))
    res["rss_peak_mb"] = round(svc.memory_mb()[1], 1)
    svc.stop()
    res["service_log"] = svc.log_findings()

    res["drain_rate"] = None
    if st.new_database is not None:
        print(
            "[bench] figures consumer alone, replaying the topic into a fresh database", flush=True
        )
        asyncio.run(harness.reset_group(st.bootstrap, TOPIC, harness.FIGURES_GROUP))
        env = harness.service_env(st, st.new_database("registration_drain"), relay=False)
        consumer = harness.Service(env, tmp / "drain", stack)
        consumer.start()
        res["drain_rate"] = asyncio.run(
            drain(consumer.url, res["officer"], res["grid"], res["declarations_total"])
        )
        consumer.stop()
        res["service_log"] += consumer.log_findings()
    del res["officer"]
    res["load_avg_end"] = harness.load_average()
    return res


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}x"


def report(r: dict[str, Any]) -> None:
    def row(label: str, raw: Any = "", svc: Any = "", rat: str = "") -> None:
        print(f"  {label:<44}{raw!s:>16}{svc!s:>22}{rat:>9}")

    def lat(prefix: str, cut: int = 0) -> str:
        ge = "≥" if cut else ""
        return " / ".join(f"{ge}{r[f'{prefix}_{k}_ms']}" for k in ("p50", "p95", "p99", "max"))

    n, rate, c = r["requests"], r["rate"], r["concurrency"]
    print(
        f"\nDeclarations benchmark: {r['stack']}, N={n}, paced {rate:g}/s, flat-out "
        f"{c} in flight; load average {r['load_avg_start']} -> {r['load_avg_end']} (2 cores)"
    )
    row("", "raw aiokafka", "registration", "svc/raw")
    row("record size, bytes (key+value+headers)", r["raw_record_bytes"], r["event_size_bytes"])
    row(
        f"e2e p50 ms, paced {rate:g}/s: send -> on topic",
        r["raw_visible_p50_ms"],
        r["e2e_paced_p50_ms"],
        ratio(r["e2e_paced_p50_ms"], r["raw_visible_p50_ms"]),
    )
    row(
        f"e2e p99 ms, paced {rate:g}/s: send -> on topic",
        r["raw_visible_p99_ms"],
        r["e2e_paced_p99_ms"],
        ratio(r["e2e_paced_p99_ms"], r["raw_visible_p99_ms"]),
    )
    ge = "≥" if r["raw_consumed_cut"] else ""
    row(
        "raw e2e p50/p99 ms to a committing group",
        f"{ge}{r['raw_consumed_p50_ms']}/{ge}{r['raw_consumed_p99_ms']}",
    )
    row(
        "flat-out throughput (msg/s | decl/s)",
        r["raw_produce_rate"],
        r["flat_rate"],
        ratio(r["flat_rate"], r["raw_produce_rate"]),
    )
    row(
        "consumer alone, commit per message (/s)",
        r["raw_consume_rate"],
        r["drain_rate"] or "-",
        ratio(r["drain_rate"], r["raw_consume_rate"]),
    )
    for name, title in (
        ("paced", f"paced {rate:g}/s, open loop"),
        ("flat", f"flat out, {c} in flight"),
    ):
        print(f"\n  Service, {title}")
        row("HTTP p50 / p95 / p99 / max ms", "", lat(f"http_{name}", r[f"{name}_cut"]))
        errors = r[f"{name}_errors"] | ({"cut off": r[f"{name}_cut"]} if r[f"{name}_cut"] else {})
        row(
            "201/s achieved, 201s, errors",
            "",
            f"{r[f'{name}_rate']}, {r[f'{name}_ok']}, {sum(errors.values())}",
        )
        if errors:
            print(f"      errors: {errors} {r[f'{name}_error_samples'] or ''}")
        row(
            "e2e HTTP send -> on topic p50 / p99 ms",
            "",
            f"{r[f'e2e_{name}_p50_ms']} / {r[f'e2e_{name}_p99_ms']}",
        )
        applied = r[f"{name}_applied_s"]
        row("all applied by the figures consumer at", "", f"{applied} s" if applied else "not yet")
        row("service CPU per declaration, ms", "", r[f"{name}_service_cpu_ms_per_decl"])
        row("bench client CPU, % of one core", "", r[f"{name}_bench_cpu_pct"])
        row(
            "events missing | ce_subject mismatches",
            "",
            f"{r[f'{name}_events_missing']} | {r[f'{name}_subject_mismatches']}",
        )
    print("\n  Figures consumer and process")
    row("applied/s under load (while behind)", "", r["applied_rate_under_load"])
    row("applied at the end / declared", "", f"{r['applied_at_end']} / {r['declarations_total']}")
    row("start to /readyz 200, s", "", r["ready_s"])
    row("RSS idle / peak, MB", "", f"{r['rss_idle_mb']} / {r['rss_peak_mb']}")
    print("\nBudgets")
    for label, key, limit, unit in BUDGETS:
        verdict = "PASS" if r[key] < limit else "MISS"
        print(f"  {verdict}  {label}: {r[key]} {unit} (budget < {limit:g} {unit})")
    if r["service_log"]:
        print("\nService log warnings/errors (count x first 160 chars)")
        print("\n".join(f"  {line}" for line in r["service_log"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="declarations per run")
    parser.add_argument("--rate", type=float, default=200.0, help="paced run, requests/s")
    parser.add_argument("--concurrency", type=int, default=32, help="flat-out run, in flight")
    parser.add_argument(
        "--broker",
        choices=("kafka", "embedded"),
        default="kafka",
        help="kafka: Apache Kafka + PostgreSQL; embedded: Tansu + SQLite",
    )
    parser.add_argument("--bootstrap", help="use this broker instead of starting one")
    parser.add_argument("--database-url", help="use this (empty) database instead")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    harness.raise_on_sigterm()
    # A new group's first coordinator lookup fails once on a fresh broker: not an error.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    logging.getLogger("aiokafka.consumer.group_coordinator").setLevel(logging.CRITICAL)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-decl-")))
        try:
            results = run(args, stack, tmp)
        except KeyboardInterrupt:
            print("\n[bench] interrupted: stopping everything", file=sys.stderr)
            return 130
        print("[bench] stopping the stack", flush=True)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
