"""The stack under test: broker, database and the registration process, all on 127.0.0.1.

Everything started here is registered on the caller's ``ExitStack``, so it is stopped
(and its temporary directory removed) however the benchmark ends.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack.kafka import create_topics
from registration.main import service
from tests.integration.services import SECRET, ServiceProcess


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Stack:
    kind: str
    bootstrap: str
    idempotent: bool  # Tansu has no idempotent producer
    database_url: str
    new_database: Callable[[str], str] | None  # a fresh database; None on an external stack


def open_stack(args: Any, stack: contextlib.ExitStack, tmp: Path) -> Stack:
    """Start the broker and the database the run needs (or use the given ones)."""
    embedded = args.broker == "embedded"
    if args.bootstrap:
        bootstrap = args.bootstrap
    else:
        from devstack.kafka import KafkaBroker
        from devstack.tansu import TansuBroker

        bootstrap = stack.enter_context(TansuBroker() if embedded else KafkaBroker()).bootstrap
    create_topics(bootstrap, service.topic_names(), partitions=3)
    new_database: Callable[[str], str] | None = None
    if embedded and not args.database_url:
        new_database = f"sqlite+aiosqlite:///{tmp}/{{}}.db".format  # one file per name
    elif not args.database_url:
        from devstack.postgres import PostgresCluster

        new_database = stack.enter_context(PostgresCluster()).create_database
    url = new_database("registration") if new_database else args.database_url
    external = bool(args.bootstrap or args.database_url)
    kind = ("tansu+sqlite" if embedded else "kafka+postgres") + (" (given)" if external else "")
    return Stack(kind, bootstrap, not embedded, url, None if external else new_database)


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
    """``python -m registration serve`` as a child process: readiness, memory, CPU, log."""

    def __init__(self, env: dict[str, str], log_dir: Path, stack: contextlib.ExitStack) -> None:
        log_dir.mkdir(parents=True)
        self.proc = ServiceProcess("registration", env, log_dir)
        stack.callback(self.proc.stop)
        self.proc.migrate()

    @property
    def url(self) -> str:
        return self.proc.url

    def _proc_file(self, name: str) -> str:
        assert self.proc.proc is not None
        return Path(f"/proc/{self.proc.proc.pid}/{name}").read_text()

    def start(self, limit_s: float = 60.0) -> float:
        """Spawn the process; return the seconds until ``/readyz`` answered 200."""
        started = time.monotonic()
        self.proc.spawn()
        assert self.proc.proc is not None
        with httpx.Client(timeout=1.0) as http:
            for _ in range(int(limit_s / 0.02)):
                if self.proc.proc.poll() is not None:
                    raise RuntimeError(f"registration exited:\n{self.proc.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(f"{self.url}/readyz").status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.02)
        raise RuntimeError(f"registration not ready in {limit_s} s:\n{self.proc.tail()}")

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) of the service process in MiB."""
        status = dict(line.split(":", 1) for line in self._proc_file("status").splitlines())
        rss, hwm = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
        return rss, hwm

    def cpu_seconds(self) -> float:
        """User + system CPU time the service process has used so far."""
        fields = self._proc_file("stat").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.stop()

    def log_findings(self) -> list[str]:
        """Warning/error events of the service log, counted, and lines that are not JSON."""
        counts: Counter[str] = Counter()
        for path in sorted(self.proc.log_dir.glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    counts[f"not JSON: {line[:24]}... (e.g. {line[24:110]!r})"] += 1
                    continue
                if entry.get("level") in ("warning", "error", "critical"):
                    counts[f"{entry['level']}: {str(entry.get('event'))[:110]}"] += 1
        return [f"{n:>5} x {text}" for text, n in counts.most_common(8)]


def git_revision() -> str:
    """The commit under test, ``-dirty`` with uncommitted changes (the service may change)."""
    out = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        check=False,
    )
    return out.stdout.strip() or "unknown"


def load_average() -> float:
    """The 1-minute load average: other work on this 2-core machine shows here."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def raise_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the ExitStack stops everything."""

    def handler(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
