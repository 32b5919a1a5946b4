"""The stack under test: broker, database and the registration process, all on 127.0.0.1.

Everything started here is registered on an ``ExitStack``, so it is stopped (and its
temporary directory removed) however the benchmark ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from devstack.kafka import create_topics
from registration.main import TOPICS
from tests.integration.services import SECRET, ServiceProcess

FIGURES_GROUP = "registration.figures"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Stack:
    kind: str  # "kafka+postgres", "tansu+sqlite", or "external"
    bootstrap: str
    idempotent: bool
    #: a fresh, empty database URL per call (None: an external database was given)
    new_database: Callable[[str], str] | None
    database_url: str


def open_stack(args: Any, stack: contextlib.ExitStack, tmp: Path) -> Stack:
    """Start (or connect to) the broker and the database the run needs."""
    if args.bootstrap:
        bootstrap, idempotent = args.bootstrap, args.broker == "kafka"
    elif args.broker == "embedded":
        from devstack.tansu import TansuBroker

        bootstrap, idempotent = stack.enter_context(TansuBroker()).bootstrap, False
    else:
        from devstack.kafka import KafkaBroker

        bootstrap, idempotent = stack.enter_context(KafkaBroker()).bootstrap, True
    create_topics(bootstrap, TOPICS, partitions=3)

    new_database: Callable[[str], str] | None
    if args.database_url:
        new_database = None
        url = args.database_url
    elif args.broker == "embedded":
        new_database = lambda name: f"sqlite+aiosqlite:///{tmp}/{name}.db"  # noqa: E731
        url = new_database("registration")
    else:
        from devstack.postgres import PostgresCluster

        new_database = stack.enter_context(PostgresCluster()).create_database
        url = new_database("registration")
    external = bool(args.bootstrap or args.database_url)
    kind = (
        "external"
        if external
        else ("tansu+sqlite" if args.broker == "embedded" else "kafka+postgres")
    )
    return Stack(kind, bootstrap, idempotent, None if external else new_database, url)


def service_env(stack: Stack, database_url: str, *, relay: bool = True) -> dict[str, str]:
    return {
        "REGISTRATION_DATABASE_URL": database_url,
        "REGISTRATION_KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap,
        "REGISTRATION_KAFKA_IDEMPOTENT_PRODUCER": str(stack.idempotent).lower(),
        "REGISTRATION_JWT_SECRET": SECRET,
        "REGISTRATION_RUN_RELAY": str(relay).lower(),
        "REGISTRATION_RUN_CONSUMERS": "true",
        "REGISTRATION_LOG_LEVEL": "INFO",
    }


class Service:
    """``python -m registration serve`` as a child process, with readiness and memory."""

    def __init__(self, env: dict[str, str], log_dir: Path, stack: contextlib.ExitStack) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.proc = ServiceProcess("registration", env, log_dir)
        stack.callback(self.proc.stop)
        self.proc.migrate()

    @property
    def url(self) -> str:
        return self.proc.url

    def start(self, timeout: float = 60.0) -> float:
        """Spawn the process; return the seconds until ``/readyz`` answered 200."""
        started = time.monotonic()
        self.proc.spawn()
        assert self.proc.proc is not None
        with httpx.Client(timeout=1.0) as http:
            while time.monotonic() - started < timeout:
                if self.proc.proc.poll() is not None:
                    raise RuntimeError(f"registration exited:\n{self.proc.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"{self.url}/readyz").status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.02)
        raise RuntimeError(f"registration not ready in {timeout} s:\n{self.proc.tail()}")

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the service process in MiB."""
        assert self.proc.proc is not None
        lines = Path(f"/proc/{self.proc.proc.pid}/status").read_text().splitlines()
        status = dict(line.split(":", 1) for line in lines)
        rss, hwm = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
        return rss, hwm

    def cpu_seconds(self) -> float:
        """User + system CPU time the service process has used so far."""
        assert self.proc.proc is not None
        fields = Path(f"/proc/{self.proc.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.stop()

    def log_findings(self, limit: int = 8) -> list[str]:
        """Distinct warning/error log events of the service (JSON lines), with counts."""
        counts: dict[str, int] = {}
        for path in sorted(self.proc.log_dir.glob("registration-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                low = line.lower()
                if '"level": "warning"' in low or '"level": "error"' in low or "traceback" in low:
                    key = line[:160]
                    for noise in ('"timestamp"', '"correlation_id"', '"event_id"'):
                        if noise in key:
                            key = key.split(noise)[0]
                    counts[key] = counts.get(key, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
        return [f"{n:>5} x {text}" for text, n in ranked]


async def reset_group(bootstrap: str, topic: str, group: str) -> None:
    """Move ``group``'s committed offsets on ``topic`` back to 0 (no other member running).

    Joins the group to do it: Tansu refuses commits from outside a group's generation.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        for _ in range(600):  # up to 30 s for the partitions
            if consumer.assignment():
                break
            await asyncio.sleep(0.05)
        await consumer.commit(dict.fromkeys(consumer.assignment(), 0))
    finally:
        await consumer.stop()


def load_average() -> float:
    """The machine's 1-minute load average (other work on this 2-core box shows here)."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def raise_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the ExitStack cleans up."""

    def handler(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
