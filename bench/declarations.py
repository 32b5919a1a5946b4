"""Benchmark the declaration path: HTTP -> PostgreSQL + outbox -> Kafka -> figures consumer.

    uv run python bench/declarations.py [--requests N] [--rate R] [--concurrency C]
        [--broker kafka|embedded] [--bootstrap HOST:PORT] [--database-url URL]
        [--district SCALE] [--json PATH]

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
from seed.registration.district import generate
from tests.integration.services import SECRET

PROPERTIES, WARMUP = 20, 50
GRACE_S = 20.0  # after the last paced send, in-flight work gets this long, then is cut off
FLAT_LIMIT_S = 20.0  # the flat-out run stops sending after this long
APPLY_WAIT_S = 15.0  # after the load, the figures consumer gets this long to catch up
DRAIN_LIMIT_S = 10.0  # each consumer-alone drain is measured for at most this long
BUDGETS = (  # label, result key, limit, unit
    ("idle RSS", "rss_idle_mb", 150.0, "MB"),
    ("process start to /readyz 200", "ready_s", 5.0, "s"),
    ("declaration HTTP p99 at the paced rate", "http_paced_p99_ms", 100.0, "ms"),
)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def latency_stats(prefix: str, values: list[float]) -> dict[str, float]:
    qs = {"p50": 50, "p95": 95, "p99": 99, "max": 100}
    return {f"{prefix}_{k}_ms": ms(harness.pct(values, q)) for k, q in qs.items()}


def phase_stats(
    name: str, phase: load.Phase, watcher: load.TopicWatcher, applied_at: float | None, cpu_s: float
) -> dict[str, Any]:
    """One phase's numbers. Cut-off requests count with their age: a lower bound."""
    e2e = [watcher.arrived[r] - t for r, t in phase.sent_at.items() if r in watcher.arrived]
    ok, wall = len(phase.latencies), phase.finished - phase.started
    return {
        **latency_stats(f"http_{name}", phase.latencies + phase.cut),
        **latency_stats(f"e2e_{name}", e2e),
        f"{name}_ok": ok,
        f"{name}_errors": dict(phase.errors) | ({"cut off": len(phase.cut)} if phase.cut else {}),
        f"{name}_error_samples": phase.error_samples,
        f"{name}_rate": round(ok / wall, 1) if wall > 0 else 0.0,
        f"{name}_send_lateness_max_ms": ms(phase.client_lag_max),
        f"{name}_events_missing": len(phase.sent_at.keys() - watcher.arrived.keys()),
        f"{name}_subject_mismatches": sum(
            watcher.subject.get(r, p) != p for r, p in phase.property_of.items()
        ),
        f"{name}_applied_s": round(applied_at - phase.started, 2) if applied_at else None,
        f"{name}_service_cpu_ms_per_decl": round(cpu_s * 1000 / ok, 1) if ok else None,
    }


async def service_load(
    args: argparse.Namespace, st: harness.Stack, svc: harness.Service, grid: str, officer: str
) -> tuple[dict[str, Any], list[raw_kafka.Record]]:
    """Register properties, warm up, then the paced and the flat-out declaration runs."""
    landlord = mint_token(
        SECRET,
        sub="bench-landlord",
        role="landlord",
        party_id=load.LANDLORD,
        scopes=["registration:write", "registration:read"],
    )
    # Keep-alive below uvicorn's 5 s, so the client never reuses a connection being closed.
    limits = httpx.Limits(max_connections=args.concurrency + 2, keepalive_expiry=4.0)
    timeout = httpx.Timeout(60.0, pool=None)  # waiting is bounded by the cut-offs instead
    out: dict[str, Any] = {}
    phases: dict[str, load.Phase] = {}
    async with (
        load.TopicWatcher(st.bootstrap, TOPIC, load.residence_id) as watcher,
        httpx.AsyncClient(base_url=svc.url, limits=limits, timeout=timeout) as http,
    ):
        admin = mint_token(SECRET, sub="bench-admin", role="admin", scopes=["registration:write"])
        await load.register_grids(http, admin, [grid])
        properties = await load.register_properties(http, landlord, grid, PROPERTIES)
        declarer = load.Declarer(http, landlord, properties, args.concurrency)
        applied = len((await declarer.closed(WARMUP, 4, limit_s=60)).latencies)
        figures = load.Figures(http, officer, grid)
        await figures.sample_until(applied, limit_s=30)
        sampler = asyncio.create_task(figures.sample_until(10**9, limit_s=600))
        runs = {
            "paced": lambda: declarer.paced(args.requests, args.rate, GRACE_S),
            "flat": lambda: declarer.closed(args.requests, args.concurrency, FLAT_LIMIT_S),
        }
        try:
            for name, start in runs.items():
                cpu, bench_cpu = svc.cpu_seconds(), time.process_time()
                phases[name] = phase = await start()
                applied += len(phase.latencies)
                out[f"{name}_target"], out[f"{name}_cpu_s"] = applied, svc.cpu_seconds() - cpu
                out[f"{name}_bench_cpu_pct"] = round(
                    100 * (time.process_time() - bench_cpu) / (phase.finished - phase.started)
                )
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        await figures.sample_until(applied, limit_s=APPLY_WAIT_S)
        await watcher.wait_for(set().union(*(p.sent_at for p in phases.values())), limit_s=10)
    for name, phase in phases.items():
        reached = figures.reached(out[f"{name}_target"])
        out |= phase_stats(name, phase, watcher, reached, out[f"{name}_cpu_s"])
    return out | {
        "event_size_bytes": round(sum(watcher.sizes) / max(1, len(watcher.sizes))),
        "declarations_total": applied,
        "applied_at_end": figures.samples[-1][1] if figures.samples else 0,
        "applied_rate_under_load": round(figures.rate(), 1),
    }, watcher.records


async def drain(
    st: harness.Stack, url: str, officer: str, grid: str, records: list[raw_kafka.Record]
) -> float:
    """Applied/s of a consumer-only process when the run's events arrive again at once.

    Counted from the start of sending them: like the baseline's drain, from a standing
    start to the last one applied.
    """
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        figures = load.Figures(http, officer, grid, interval_s=0.05)
        prod = raw_kafka.producer(st.bootstrap, st.idempotent)
        await prod.start()
        try:
            started = load.now()
            sending = asyncio.create_task(raw_kafka.send_all(prod, TOPIC, records))
            await figures.sample_until(len(records), limit_s=DRAIN_LIMIT_S)
            await sending
        finally:
            await prod.stop()
    done = figures.reached(len(records))
    return round(len(records) / (done - started), 1) if done else 0.0


def run(args: argparse.Namespace, stack: contextlib.ExitStack, tmp: Path) -> dict[str, Any]:
    res: dict[str, Any] = {
        "requests": args.requests,
        "rate": args.rate,
        "concurrency": args.concurrency,
        "load_avg_start": harness.load_average(),
        "revision": harness.git_revision(),
    }
    started = time.monotonic()
    st = harness.open_stack(args, stack, tmp)
    res["stack"] = st.kind
    print(f"[bench] {st.kind} up in {time.monotonic() - started:.0f} s; raw aiokafka", flush=True)
    raw = asyncio.run(
        raw_kafka.run_raw(
            st.bootstrap,
            st.idempotent,
            args.requests,
            args.rate,
            grace_s=GRACE_S,
            drain_s=DRAIN_LIMIT_S,
        )
    )
    res |= latency_stats("raw_visible", raw.visible) | latency_stats("raw_consumed", raw.consumed)
    res |= {
        "raw_record_bytes": raw.size,
        "raw_consumed_cut": raw.consumed_cut,
        "raw_produce_rate": round(raw.produce_rate, 1),
    }
    res |= {f"raw_drain_per_{k}_rate": round(v, 1) for k, v in raw.drain_rates.items()}

    print("[bench] registration: paced, then flat out", flush=True)
    svc = harness.Service(harness.service_env(st, st.database_url), tmp / "svc", stack)
    res["ready_s"] = round(svc.start(), 2)
    time.sleep(1.0)
    res["rss_idle_mb"] = round(svc.memory_mb()[0], 1)
    res["district_scale"], res["district_requests"], res["district_s"] = args.district, 0, 0.0
    if args.district > 0:
        print(f"[bench] demo district at scale {args.district:g}: the data declarations meet")
        started = time.monotonic()
        stats, ok = asyncio.run(generate(svc.url, SECRET, scale=args.district, log=lambda _: None))
        if not ok:
            raise RuntimeError(f"the demo district failed: {dict(stats.errors)} {stats.samples}")
        res["district_requests"] = stats.requests
        res["district_s"] = round(time.monotonic() - started, 1)
    grid = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    officer = mint_token(
        SECRET, sub="bench-officer", role="officer", grids=[grid], scopes=["registration:read"]
    )
    load_results, records = asyncio.run(service_load(args, st, svc, grid, officer))
    res |= load_results
    res["rss_peak_mb"] = round(svc.memory_mb()[1], 1)
    svc.stop()
    res["service_log"], res["drain_rate"] = svc.log_findings(), None
    if st.new_database is not None:  # our own throwaway stack: the topic may get copies
        print("[bench] figures consumer alone: the run's events again, at once", flush=True)
        env = harness.service_env(st, st.new_database("registration_drain"), relay=False)
        consumer = harness.Service(env, tmp / "drain", stack)
        consumer.start()
        res["drain_rate"] = asyncio.run(drain(st, consumer.url, officer, grid, records))
        consumer.stop()
    res["load_avg_end"] = harness.load_average()
    return res


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}x"


def report(r: dict[str, Any]) -> None:
    def row(label: str, raw: Any = "", svc: Any = "", rat: str = "") -> None:
        print(f"  {label:<44}{raw!s:>14}{svc!s:>28}{rat:>9}")

    rate, c = f"{r['rate']:g}/s", r["concurrency"]
    print(
        f"\nDeclarations benchmark, {r['revision']}, {r['stack']}: N={r['requests']}, paced "
        f"{rate}, flat out {c} in flight; load average {r['load_avg_start']} -> "
        f"{r['load_avg_end']} (2 cores)"
    )
    if r["district_scale"]:
        print(
            f"  over the demo district at scale {r['district_scale']:g} "
            f"({r['district_requests']} requests in {r['district_s']} s before the runs)"
        )
    row("", "raw aiokafka", "registration", "svc/raw")
    for label, raw_key, svc_key in (
        ("record bytes (key + value + headers)", "raw_record_bytes", "event_size_bytes"),
        (f"e2e p50 ms at {rate}: send -> on the topic", "raw_visible_p50_ms", "e2e_paced_p50_ms"),
        (f"e2e p99 ms at {rate}: send -> on the topic", "raw_visible_p99_ms", "e2e_paced_p99_ms"),
        ("throughput flat out, msg/s | decl/s", "raw_produce_rate", "flat_rate"),
        ("consumer alone, commit per batch, /s", "raw_drain_per_batch_rate", "drain_rate"),
    ):
        row(label, r[raw_key], r[svc_key] or "-", ratio(r[svc_key], r[raw_key]))
    ge = "≥" if r["raw_consumed_cut"] else ""
    row("raw consumer alone, commit per message, /s", r["raw_drain_per_message_rate"])
    row(
        "raw e2e p50 / p99 ms via a committing group",
        f"{ge}{r['raw_consumed_p50_ms']} / {ge}{r['raw_consumed_p99_ms']}",
    )
    for name, title in (
        ("paced", f"paced {rate}, open loop"),
        ("flat", f"flat out, {c} in flight"),
    ):
        ge = "≥" if "cut off" in r[f"{name}_errors"] else ""
        print(f"\n  Service, {title}")
        for label, value in (
            (
                "HTTP p50 / p95 / p99 / max ms",
                " / ".join(f"{ge}{r[f'http_{name}_{q}_ms']}" for q in ("p50", "p95", "p99", "max")),
            ),
            (
                "201/s achieved, 201s, errors",
                f"{r[f'{name}_rate']}, {r[f'{name}_ok']}, {sum(r[f'{name}_errors'].values())}",
            ),
            (
                "e2e HTTP send -> on the topic p50 / p99 ms",
                f"{r[f'e2e_{name}_p50_ms']} / {r[f'e2e_{name}_p99_ms']}",
            ),
            ("figures consumer applied all, s from start", r[f"{name}_applied_s"] or "not yet"),
            ("service CPU per declaration, ms", r[f"{name}_service_cpu_ms_per_decl"]),
            (
                "bench client: CPU % of a core, max lateness ms",
                f"{r[f'{name}_bench_cpu_pct']}%, {r[f'{name}_send_lateness_max_ms']}",
            ),
            (
                "events missing, ce_subject mismatches",
                f"{r[f'{name}_events_missing']}, {r[f'{name}_subject_mismatches']}",
            ),
        ):
            row(label, "", value)
        if r[f"{name}_errors"]:
            print(f"      errors: {r[f'{name}_errors']} {r[f'{name}_error_samples'] or ''}")
    print("\n  Figures consumer and process")
    row("figures applied/s over the run", "", r["applied_rate_under_load"])
    row("applied at the end / declared", "", f"{r['applied_at_end']} / {r['declarations_total']}")
    row("start to /readyz 200, s", "", r["ready_s"])
    row("RSS idle / peak, MB", "", f"{r['rss_idle_mb']} / {r['rss_peak_mb']}")
    print("\nBudgets")
    for label, key, limit, unit in BUDGETS:
        verdict = "PASS" if r[key] < limit else "MISS"
        print(f"  {verdict}  {label}: {r[key]} {unit} (budget < {limit:g} {unit})")
    if r["service_log"]:
        print("\nService log: warnings, errors, non-JSON lines (count x event)")
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
    parser.add_argument(
        "--district",
        type=float,
        default=0.02,
        help="first create the demo district at this scale of DOMAIN.md's figures, so the "
        "declarations meet a populated database (0: none)",
    )
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
