"""The local stack launcher behind ``devstack run``.

Discovers every ``services/<name>/`` that has a ``pyproject.toml``, starts a broker
(Tansu by default, a local Apache Kafka, or an external address) and the databases
(SQLite files or one throwaway PostgreSQL cluster), then for each service:

* ``python -m <name> topics``   -> topic names to pre-create (one per line; failure = none)
* ``python -m <name> migrate``  -> run to completion
* ``python -m <name> serve --host 127.0.0.1 --port <base-port + i>`` -> long-running
* readiness: ``GET /readyz`` == 200
* with ``--smoke``: the service's demo, ``python -m <demo...> --base-url
  http://127.0.0.1:<port>`` (``<demo...>`` is ``[tool.devstack] demo`` of its
  ``pyproject.toml``, by default ``<name> demo``), then stop
  (exit code 0 only when every demo passed); with ``--seed`` the demos run once to seed
  demo data and the stack keeps running

Every child's output is prefixed with ``[<name>]``. SIGINT/SIGTERM stops the services
(SIGTERM, then SIGKILL after a grace period), the broker and PostgreSQL, and exits 0.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, Protocol, TextIO

import httpx

from devstack.kafka import create_topics, wait_for_kafka

__all__ = [
    "DemoResult",
    "ServiceSpec",
    "Stack",
    "StackError",
    "StackOptions",
    "discover_services",
    "find_root",
    "service_env",
]

_COLOURS = ("36", "35", "33", "32", "34", "96", "95", "93", "92", "94")


RESTART_BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""Waits before each restart of a service that keeps exiting: the last one repeats."""
STABLE_AFTER_S = 60.0
"""A service that ran this long before it exited starts again at the first wait."""


@dataclass
class Supervisor:
    """When to start again the services that exited (the bookkeeping, no processes)."""

    _restarts: dict[str, int] = field(default_factory=dict)
    _since: dict[str, float] = field(default_factory=dict)
    _due: dict[str, float] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    def started(self, name: str, now: float) -> None:
        self._since[name] = now
        self._due.pop(name, None)

    def exited(self, name: str, now: float) -> float:
        """The wait before starting ``name`` again (it exited at ``now``)."""
        if now - self._since.get(name, now) >= STABLE_AFTER_S:
            self._restarts[name] = 0
        attempt = self._restarts.get(name, 0)
        self._restarts[name] = attempt + 1
        delay = RESTART_BACKOFF_S[min(attempt, len(RESTART_BACKOFF_S) - 1)]
        self._due[name] = now + delay
        return delay

    def waiting(self, name: str) -> bool:
        return name in self._due

    def due(self, name: str, now: float) -> bool:
        return now >= self._due[name]

    def count(self, name: str) -> int:
        return self._restarts.get(name, 0)

    def report_once(self, name: str) -> bool:
        first = name not in self._reported
        self._reported.add(name)
        return first


class StackError(RuntimeError):
    """The stack could not be brought up (the message says which part failed)."""


class _Terminated(BaseException):
    """Raised from the SIGTERM handler to unwind into the shutdown path."""


class _Stoppable(Protocol):
    def stop(self) -> None: ...


# --------------------------------------------------------------------------- discovery
@dataclass(frozen=True)
class ServiceSpec:
    """One service directory: ``services/<name>/pyproject.toml``."""

    name: str
    path: Path
    port: int
    demo: tuple[str, ...] = ()
    """The module (and arguments) run with ``python -m`` as the service's demo; empty:
    ``<module> demo``. Tools that drive a service live outside its image (``seed``)."""

    @property
    def try_read(self) -> tuple[str, str, tuple[str, ...]] | None:
        """``[tool.devstack] try``: a read to show once the stack is up, as (path, role,
        grids) of the token it needs; None when the service declares none."""
        table = _devstack_table(self.path / "pyproject.toml").get("try")
        if not isinstance(table, dict) or not isinstance(table.get("path"), str):
            return None
        grids = table.get("grids", [])
        return str(table["path"]), str(table.get("role", "officer")), tuple(map(str, grids))

    @property
    def demo_command(self) -> tuple[str, ...]:
        return self.demo or (self.module, "demo")

    @property
    def module(self) -> str:
        """The module run with ``python -m``."""
        return self.name.replace("-", "_")

    @property
    def env_prefix(self) -> str:
        return self.name.upper().replace("-", "_")

    @property
    def db_name(self) -> str:
        return self.name.lower().replace("-", "_")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def find_root(start: Path | None = None) -> Path:
    """Walk up from ``start`` (cwd) to the dir holding ``services/`` and ``pyproject.toml``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "services").is_dir() and (candidate / "pyproject.toml").is_file():
            return candidate
    raise StackError(f"no repository root (a dir with services/ and pyproject.toml) above {here}")


def discover_services(root: Path, base_port: int = 8000) -> list[ServiceSpec]:
    """Every ``services/*/`` with a ``pyproject.toml``, sorted by name.

    A service's port is ``base_port`` plus the ``port-offset`` its ``pyproject.toml``
    declares under ``[tool.devstack]`` (registration 0, inspection 1, penalties 2,
    outreach 3, dispatch 4: fixed, so that a new service never moves another's port).
    Services declaring none take the next free offsets, in name order.
    """
    services_dir = root / "services"
    dirs = sorted(
        p for p in services_dir.iterdir() if p.is_dir() and (p / "pyproject.toml").is_file()
    )
    declared: dict[Path, int] = {}
    demos = {path: _declared_demo(path / "pyproject.toml") for path in dirs}
    for path in dirs:
        offset = _declared_offset(path / "pyproject.toml")
        if offset is None:
            continue
        if offset in declared.values():
            raise StackError(f"{path.name}: port-offset {offset} is another service's")
        declared[path] = offset
    taken = set(declared.values())
    offsets = iter(i for i in range(len(dirs) + len(taken)) if i not in taken)
    return [
        ServiceSpec(
            p.name, p, base_port + (declared[p] if p in declared else next(offsets)), demos[p]
        )
        for p in dirs
    ]


def _devstack_table(pyproject: Path) -> dict[str, Any]:
    try:
        tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except tomllib.TOMLDecodeError as exc:
        raise StackError(f"{pyproject}: {exc}") from exc
    table: dict[str, Any] = tool.get("devstack", {})
    return table


def _declared_demo(pyproject: Path) -> tuple[str, ...]:
    demo = _devstack_table(pyproject).get("demo", [])
    if not isinstance(demo, list) or not all(isinstance(part, str) and part for part in demo):
        raise StackError(f"{pyproject}: [tool.devstack] demo must be a list of strings")
    return tuple(demo)


def _declared_offset(pyproject: Path) -> int | None:
    offset = _devstack_table(pyproject).get("port-offset")
    if offset is not None and (not isinstance(offset, int) or not 0 <= offset < 100):
        raise StackError(f"{pyproject}: [tool.devstack] port-offset must be 0..99")
    return offset


def service_env(
    spec: ServiceSpec,
    *,
    database_url: str,
    bootstrap: str,
    idempotent: bool,
    jwt_secret: str,
    log_json: bool = True,
) -> dict[str, str]:
    """The per-service settings the launcher injects (``<NAME>_...``): log lines are JSON
    unless ``log_json`` is False (the stack runs in a terminal: lines for people)."""
    prefix = spec.env_prefix
    return {
        f"{prefix}_LOG_JSON": "true" if log_json else "false",
        f"{prefix}_DATABASE_URL": database_url,
        f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}_KAFKA_IDEMPOTENT_PRODUCER": "true" if idempotent else "false",
        # Tansu (not idempotent) holds a group join for half the session timeout.
        **({} if idempotent else {f"{prefix}_KAFKA_SESSION_TIMEOUT_MS": "3000"}),
        f"{prefix}_JWT_SECRET": jwt_secret,
    }


# --------------------------------------------------------------------------- options
@dataclass
class StackOptions:
    root: Path
    broker: str = "embedded"  # "embedded" | "kafka" | "HOST:PORT"
    db: str = "sqlite"  # "sqlite" | "postgres"
    smoke: bool = False
    seed: bool = False  # run every service's `demo` once after readiness, keep running
    base_port: int = 8000
    data_dir: Path = Path(".stack")
    fresh: bool = False
    ready_timeout: float = 60.0
    smoke_timeout: float = 180.0
    stop_grace: float = 10.0
    colour: bool | None = None  # None: when stdout is a TTY
    restart: bool = True  # a service that exits is started again, after a backoff


@dataclass
class DemoResult:
    service: str
    status: str  # "passed" | "failed" | "no demo" | "timeout"
    returncode: int | None
    seconds: float


# --------------------------------------------------------------------------- output
class _Output:
    """Thread-safe, name-prefixed line output."""

    def __init__(self, stream: TextIO, names: list[str], colour: bool) -> None:
        self.stream = stream
        self.width = max([len(n) for n in names] + [5])
        self.colour = colour
        self._colours = {n: _COLOURS[i % len(_COLOURS)] for i, n in enumerate(names)}
        self._lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        tag = f"[{name}]".ljust(self.width + 2)
        if self.colour:
            tag = f"\x1b[{self._colours.get(name, '1')}m{tag}\x1b[0m"
        with self._lock:
            self.stream.write(f"{tag} {text}\n")
            self.stream.flush()

    def info(self, text: str) -> None:
        for part in text.splitlines() or [""]:
            self.line("stack", part)

    def pump(self, name: str, pipe: IO[bytes]) -> threading.Thread:
        def run() -> None:
            with contextlib.suppress(ValueError, OSError):
                for raw in iter(pipe.readline, b""):
                    self.line(name, raw.decode("utf-8", "replace").rstrip("\r\n"))

        thread = threading.Thread(target=run, name=f"pump-{name}", daemon=True)
        thread.start()
        return thread


def _terminate_group(procs: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM every process group, wait up to ``grace`` seconds in total, then SIGKILL."""
    alive = [p for p in procs if p.poll() is None]
    for proc in alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in alive:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
    for proc in alive:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


# --------------------------------------------------------------------------- the stack
@dataclass
class Stack:
    """One ``devstack run``: call :meth:`run` (returns the exit code)."""

    options: StackOptions
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    services: list[ServiceSpec] = field(default_factory=list)
    bootstrap: str = ""
    idempotent: bool = True
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    envs: dict[str, dict[str, str]] = field(default_factory=dict)
    _resources: list[_Stoppable] = field(default_factory=list)
    _servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _pumps: list[threading.Thread] = field(default_factory=list)
    _out: _Output | None = None

    # -- helpers -------------------------------------------------------------------------
    @property
    def out(self) -> _Output:
        assert self._out is not None
        return self._out

    @property
    def data_dir(self) -> Path:
        d = self.options.data_dir
        return d if d.is_absolute() else self.options.root / d

    def _child_env(self, spec: ServiceSpec) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", **self.envs[spec.name]}

    def _urls(self) -> dict[str, str]:
        """``DEVSTACK_<NAME>_URL`` of every service, for demos that drive several."""
        return {f"DEVSTACK_{s.env_prefix}_URL": s.base_url for s in self.services}

    def _cmd(self, spec: ServiceSpec, *args: str) -> list[str]:
        return [sys.executable, "-m", spec.module, *args]

    def _run_child(
        self, spec: ServiceSpec, args: list[str], timeout: float, *, module: str | None = None
    ) -> tuple[int | None, str]:
        """Run ``python -m <module or svc> <args>`` in the service's environment,
        prefixing its output; return (code, output)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args] if module else self._cmd(spec, *args),
            cwd=self.options.root,
            env={**self._child_env(spec), **self._urls()},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stdout = proc.stdout
        assert stdout is not None
        captured: list[str] = []

        def pump() -> None:
            for raw in iter(stdout.readline, b""):
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                captured.append(text)
                self.out.line(spec.name, text)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _terminate_group([proc], self.options.stop_grace)
            thread.join(timeout=5)
            stdout.close()
        return code, "\n".join(captured)

    # -- phases --------------------------------------------------------------------------
    def _start_broker(self) -> None:
        choice = self.options.broker
        if choice == "embedded":
            from devstack.tansu import TansuBroker

            self.out.info("starting embedded broker (Tansu, in memory)...")
            tansu = TansuBroker().start()
            self._resources.append(tansu)
            self.bootstrap, self.idempotent = tansu.bootstrap, False
            self.out.info(f"Tansu up at {self.bootstrap} in {tansu.startup_seconds:.1f}s")
        elif choice == "kafka":
            from devstack.kafka import KafkaBroker

            self.out.info("starting Apache Kafka 4.1.1 (KRaft, local jars)...")
            kafka = KafkaBroker().start()
            self._resources.append(kafka)
            self.bootstrap, self.idempotent = kafka.bootstrap, True
            self.out.info(f"Kafka up at {self.bootstrap} in {kafka.startup_seconds:.1f}s")
        else:
            self.out.info(f"using external broker {choice}")
            wait_for_kafka(choice, timeout=30)
            self.bootstrap, self.idempotent = choice, True

    def _start_databases(self) -> dict[str, str]:
        urls: dict[str, str] = {}
        if self.options.db == "sqlite":
            self.data_dir.mkdir(parents=True, exist_ok=True)
            for spec in self.services:
                db = self.data_dir / f"{spec.db_name}.db"
                if self.options.fresh:
                    for suffix in ("", "-journal", "-wal", "-shm"):
                        Path(f"{db}{suffix}").unlink(missing_ok=True)
                urls[spec.name] = f"sqlite+aiosqlite:///{db}"
        elif self.options.db == "postgres":
            from devstack.postgres import PostgresCluster

            self.out.info("starting PostgreSQL (throwaway cluster)...")
            cluster = PostgresCluster().start()
            self._resources.append(cluster)
            self.out.info(f"PostgreSQL up on port {cluster.port} in {cluster.startup_seconds:.1f}s")
            for spec in self.services:
                urls[spec.name] = cluster.create_database(spec.db_name)
        else:
            raise StackError(f"unknown --db {self.options.db!r} (sqlite|postgres)")
        return urls

    def _topics(self) -> list[str]:
        wanted: set[str] = set()
        for spec in self.services:
            try:
                result = subprocess.run(
                    self._cmd(spec, "topics"),
                    cwd=self.options.root,
                    env=self._child_env(spec),
                    capture_output=True,
                    text=True,
                    timeout=60,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                self.out.line(spec.name, "`topics` timed out: assuming no topics")
                continue
            if result.returncode != 0:
                self.out.line(spec.name, f"`topics` exited {result.returncode}: assuming none")
                continue
            names = [t.strip() for t in result.stdout.splitlines() if t.strip()]
            wanted.update(names)
        return sorted(wanted)

    def _serve(self, spec: ServiceSpec) -> None:
        proc = subprocess.Popen(
            self._cmd(spec, "serve", "--host", "127.0.0.1", "--port", str(spec.port)),
            cwd=self.options.root,
            env=self._child_env(spec),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        self._servers[spec.name] = proc
        self._pumps.append(self.out.pump(spec.name, proc.stdout))

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {s.name: s for s in self.services}
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name, spec in list(pending.items()):
                    proc = self._servers[name]
                    if proc.poll() is not None:
                        raise StackError(f"{name} exited with code {proc.returncode} before ready")
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(f"{spec.base_url}/readyz").status_code == 200:
                            self.out.info(f"{name} is ready")
                            del pending[name]
                if not pending:
                    return
                if time.monotonic() > deadline:
                    raise StackError(
                        f"not ready after {timeout:.0f}s (GET /readyz != 200): "
                        + ", ".join(sorted(pending))
                    )
                time.sleep(0.25)

    def _summary(self) -> None:
        rows = [("service", "url", "docs", "asyncapi")] + [
            (s.name, s.base_url, f"{s.base_url}/docs", f"{s.base_url}/asyncapi")
            for s in self.services
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        self.out.info("\n".join(lines))
        self.out.info(f"broker: {self.bootstrap}   db: {self.options.db}")
        self.out.info(f"JWT secret (HS256, shared by all services): {self.jwt_secret}")
        # token_urlsafe() output needs no shell quoting
        if importlib.util.find_spec("common.auth") is not None:
            self.out.info(
                f"mint a token: uv run python -m common.auth --secret {self.jwt_secret} "
                "--role officer --grid <grid> --scope <service>:read  (see --help)"
            )
            for spec in self.services:
                self._try_hint(spec)
        else:
            mint = (
                "import jwt, time; print(jwt.encode({'sub': 'dev', 'exp': int(time.time()) + "
                f"3600}}, '{self.jwt_secret}', algorithm='HS256'))"
            )
            self.out.info(f'mint a token (HS256): python -c "{mint}"')
        self.out.info(f"env of every service written to {self.data_dir / 'stack.env'}")

    def _try_hint(self, spec: ServiceSpec) -> None:
        """A read that works on this stack (the service's ``[tool.devstack] try``)."""
        read = spec.try_read
        if read is None:
            return
        path, role, grids = read
        grid_args = "".join(f" --grid {shlex.quote(g)}" for g in grids)
        mint = (
            f"uv run python -m common.auth --secret {self.jwt_secret} --role {role}{grid_args} "
            f"--scope {spec.name}:read"
        )
        self.out.info(
            f'try {spec.name}: curl -H "Authorization: Bearer $({mint})" {spec.base_url}{path}'
        )

    def _write_env_file(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"{k}={shlex.quote(v)}" for env in self.envs.values() for k, v in sorted(env.items())
        ]
        path = self.data_dir / "stack.env"
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)

    def _demos(self, deadline: float, label: str = "smoke") -> list[DemoResult]:
        """Run each service's demo (``--base-url ...``) within ``deadline``, in port order:
        upstream first (registration's data before the services that read it)."""
        results: list[DemoResult] = []
        for spec in sorted(self.services, key=lambda s: s.port):
            remaining = deadline - time.monotonic()
            started = time.monotonic()
            if remaining <= 0:
                results.append(DemoResult(spec.name, "timeout", None, 0.0))
                continue
            self.out.info(f"{label}: {spec.name} demo")
            module, *args = spec.demo_command
            code, output = self._run_child(
                spec, [*args, "--base-url", spec.base_url], timeout=remaining, module=module
            )
            took = time.monotonic() - started
            if code == 0:
                status = "passed"
            elif code is None:
                status = "timeout"
            elif code == 2 and "invalid choice" in output:
                status = "no demo"
            else:
                status = "failed"
            results.append(DemoResult(spec.name, status, code, took))
        return results

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, deadline: float | None = None) -> None:
        """Bring everything up and wait for readiness (raises :class:`StackError`)."""
        root = self.options.root
        self.services = discover_services(root, self.options.base_port)
        names = [s.name for s in self.services]
        colour = self.options.colour
        if colour is None:
            colour = self.stream.isatty()
        terminal = self.stream.isatty()
        self._out = _Output(self.stream, [*names, "stack"], colour)
        if not self.services:
            raise StackError(f"no services found under {root / 'services'}")
        self.out.info(f"root {root}; services: {', '.join(names)}")
        busy = [f"{s.name}:{s.port}" for s in self.services if _port_in_use(s.port)]
        if busy:
            raise StackError(f"ports already in use: {', '.join(busy)} (try --base-port)")

        self._start_broker()
        urls = self._start_databases()
        for spec in self.services:
            self.envs[spec.name] = service_env(
                spec,
                database_url=urls[spec.name],
                bootstrap=self.bootstrap,
                idempotent=self.idempotent,
                jwt_secret=self.jwt_secret,
                log_json=not terminal,
            )
        self._write_env_file()

        topics = self._topics()
        if topics:
            self.out.info(f"creating topics: {', '.join(topics)}")
            create_topics(self.bootstrap, topics)

        for spec in self.services:
            self.out.info(f"migrating {spec.name}...")
            code, _ = self._run_child(spec, ["migrate"], timeout=300)
            if code != 0:
                raise StackError(f"{spec.name}: `migrate` failed (exit code {code})")

        for spec in self.services:
            self._serve(spec)
        timeout = self.options.ready_timeout
        if deadline is not None:
            timeout = min(timeout, max(deadline - time.monotonic(), 1.0))
        self._wait_ready(timeout)
        self._summary()

    def stop(self) -> None:
        """Stop services (SIGTERM, then SIGKILL after the grace period), broker, database."""
        if self._servers:
            if self._out is not None:
                self.out.info("stopping services...")
            _terminate_group(list(self._servers.values()), self.options.stop_grace)
            for proc in self._servers.values():
                if proc.stdout is not None:
                    with contextlib.suppress(OSError):
                        proc.stdout.close()
            self._servers.clear()
        for thread in self._pumps:
            thread.join(timeout=2)
        self._pumps.clear()
        while self._resources:
            resource = self._resources.pop()
            with contextlib.suppress(Exception):
                resource.stop()
        if self._out is not None:
            self.out.info("stopped")

    def _idle(self) -> None:
        """Wait for a signal; start again a service that exits on its own (with a backoff,
        reset once it has run for :data:`STABLE_AFTER_S`), saying so."""
        supervisor = Supervisor()
        specs = {s.name: s for s in self.services}
        for name in self._servers:
            supervisor.started(name, time.monotonic())
        while True:
            now = time.monotonic()
            for name, proc in list(self._servers.items()):
                if supervisor.waiting(name):
                    if supervisor.due(name, now):
                        self._serve(specs[name])
                        supervisor.started(name, now)
                        self.out.info(f"{name} started again (restart {supervisor.count(name)})")
                    continue
                if proc.poll() is None:
                    continue
                if not self.options.restart:
                    if supervisor.report_once(name):
                        self.out.info(f"{name} exited with code {proc.returncode}")
                    continue
                delay = supervisor.exited(name, now)
                self.out.info(
                    f"{name} exited with code {proc.returncode}; starting it again in "
                    f"{delay:.0f}s (restart {supervisor.count(name)})"
                )
            time.sleep(0.25)

    def run(self) -> int:
        """Run until interrupted (or, with ``smoke``, until the demos finished)."""
        started = time.monotonic()
        deadline = started + self.options.smoke_timeout if self.options.smoke else None
        with _signals_raise():
            try:
                self.start(deadline)
                if not self.options.smoke:
                    if self.options.seed:
                        seeded = self._demos(time.monotonic() + self.options.smoke_timeout, "seed")
                        for r in seeded:
                            self.out.info(f"seed {r.service}: {r.status}")
                    self.out.info("stack is up; Ctrl-C to stop")
                    self._idle()
                    return 0  # pragma: no cover - _idle only returns via an exception
                assert deadline is not None
                results = self._demos(deadline)
                return self._report(results)
            except (KeyboardInterrupt, _Terminated):
                if self._out is not None:
                    self.out.info("interrupted")
                return 0
            except StackError as exc:
                if self._out is None:
                    self._out = _Output(self.stream, ["stack"], False)
                self.out.info(f"FAILED: {exc}")
                return 1
            finally:
                with _signals_ignored():
                    self.stop()

    def _report(self, results: list[DemoResult]) -> int:
        for r in results:
            self.out.info(f"smoke {r.service}: {r.status} ({r.seconds:.1f}s)")
        bad = [r for r in results if r.status in ("failed", "timeout")]
        if bad:
            reasons = ", ".join(
                f"{r.service} {r.status}"
                + (f" (exit {r.returncode})" if r.returncode is not None else "")
                for r in bad
            )
            self.out.info(f"SMOKE FAILED: {reasons}")
            return 1
        self.out.info("SMOKE PASSED")
        return 0


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM raises :class:`_Terminated` (SIGINT already raises KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    # Also when started with SIGINT ignored (e.g. a background job of a script).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """Let the shutdown finish: ignore SIGINT/SIGTERM meanwhile."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: Mapping[int, Any] = {
        sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
