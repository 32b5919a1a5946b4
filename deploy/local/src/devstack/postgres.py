"""A throwaway PostgreSQL cluster from the machine's binaries (``initdb``/``pg_ctl``).

PostgreSQL refuses to run as root, so when the caller is root every server-side binary
runs as the ``postgres`` system user through ``runuser`` and the cluster directory is
chowned to it.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

from devstack._proc import log_tail
from devstack.ports import free_port

__all__ = [
    "PostgresCluster",
    "PostgresStartError",
    "StopMode",
    "pg_bin_dir",
    "validate_db_name",
]

_FALLBACK_BIN_DIRS = ("/usr/lib/postgresql/15/bin",)
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: ``pg_ctl stop -m``: ``smart`` waits for clients, ``fast`` ends them, ``immediate`` crashes.
StopMode = Literal["smart", "fast", "immediate"]


class PostgresStartError(RuntimeError):
    """initdb / pg_ctl failed."""


def pg_bin_dir() -> Path:
    """Directory of ``initdb``/``pg_ctl``/``psql`` (``$PG_BIN_DIR``, PATH, or the PG 15 dir)."""
    override = os.environ.get("PG_BIN_DIR")
    if override:
        return Path(override)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for candidate in _FALLBACK_BIN_DIRS:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise PostgresStartError("PostgreSQL binaries not found: no `initdb` on PATH")


def validate_db_name(name: str) -> str:
    """Accept plain identifiers only (letters, digits, underscore; max 63 chars)."""
    if not _DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}: use [A-Za-z_][A-Za-z0-9_]*")
    return name


class PostgresCluster:
    """A temporary PostgreSQL cluster on 127.0.0.1 with trust auth for user ``postgres``.

    ``with PostgresCluster() as pg: url = pg.create_database("registration")``. Fault
    tests stop and start the same server, its data and port kept: :meth:`halt` (``fast``,
    or ``immediate`` for a crash), :meth:`resume`, or :meth:`restart` for both.
    """

    user = "postgres"

    def __init__(self, *, startup_timeout: float = 60.0, crash_safe: bool = False) -> None:
        """``crash_safe``: ``synchronous_commit`` stays on, so a committed transaction
        survives a crash of the server (``halt("immediate")``); without it the last
        fraction of a second of commits may be lost then. ``fsync`` is off either way
        (the machine does not crash)."""
        self.startup_timeout = startup_timeout
        self.crash_safe = crash_safe
        self.port = 0
        self.tmpdir: Path | None = None
        self.startup_seconds: float | None = None
        self._bin: Path | None = None
        self._running = False
        #: The server's ``pg_ctl start -o`` options (set by the first start).
        self._options = ""

    # -- paths ---------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("PostgresCluster is not started")
        return self.tmpdir / "data"

    @property
    def log_path(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("PostgresCluster is not started")
        return self.tmpdir / "postgres.log"

    def _exe(self, name: str) -> str:
        assert self._bin is not None
        return str(self._bin / name)

    def _as_server_user(self, cmd: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *cmd]
        return cmd

    def _run(self, cmd: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.tmpdir
        )
        if result.returncode != 0:
            raise PostgresStartError(
                f"{' '.join(cmd)} failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> PostgresCluster:
        if self._options:  # started before: running, or halted (then start it again)
            self.resume()
            return self
        started = time.monotonic()
        self._bin = pg_bin_dir()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="devstack-pg-"))
        sockdir = self.tmpdir / "sock"
        sockdir.mkdir()
        try:
            if os.geteuid() == 0:
                try:
                    account = pwd.getpwnam("postgres")
                except KeyError as exc:
                    raise PostgresStartError(
                        "running as root needs a `postgres` system user to own the cluster"
                    ) from exc
                for path in (self.tmpdir, sockdir):
                    os.chown(path, account.pw_uid, account.pw_gid)
            self._run(
                self._as_server_user(
                    [
                        self._exe("initdb"),
                        "-D",
                        str(self.data_dir),
                        "-A",
                        "trust",
                        "-U",
                        self.user,
                        "--no-sync",
                        "-E",
                        "UTF8",
                        "--locale=C",
                    ]
                )
            )
            self.port = free_port()
            synchronous_commit = "on" if self.crash_safe else "off"
            self._options = (
                f"-p {self.port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit={synchronous_commit} -c full_page_writes=off "
                "-c max_connections=200"
            )
            self._pg_ctl_start()
        except BaseException as exc:
            tail = log_tail(self.log_path) if self.tmpdir else ""
            self.stop()
            if isinstance(exc, PostgresStartError | subprocess.SubprocessError | OSError):
                raise PostgresStartError(f"PostgreSQL failed to start: {exc}\n{tail}") from exc
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _pg_ctl_start(self) -> None:
        self._run(
            self._as_server_user(
                [
                    self._exe("pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_path),
                    "-w",
                    "-t",
                    str(int(self.startup_timeout)),
                    "-o",
                    self._options,
                    "start",
                ]
            ),
            timeout=self.startup_timeout + 10,
        )
        self._running = True

    def _pg_ctl_stop(self, mode: StopMode) -> None:
        cmd = self._as_server_user(
            [self._exe("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"]
        )
        try:
            subprocess.run(cmd, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            self._kill_postmaster()
        self._running = False

    # -- faults: the same cluster, stopped and started again with its data --------------
    @property
    def running(self) -> bool:
        """True while the server runs (False after :meth:`halt`, until :meth:`resume`)."""
        return self._running

    def halt(self, mode: StopMode = "fast") -> None:
        """Stop the server and keep its data directory and port (``pg_ctl stop -m``).

        ``fast``: sessions are terminated, a clean shutdown; ``immediate``: the server
        quits without a checkpoint, a crash (the next start replays the WAL; only a
        ``crash_safe`` cluster keeps every commit then). Clients see their connections
        dropped and new ones refused until :meth:`resume`.
        """
        if self.tmpdir is None or not self._options:
            raise RuntimeError("PostgresCluster is not started")
        if self._running:
            self._pg_ctl_stop(mode)

    def resume(self) -> float:
        """Start the halted server again, same port and data; returns the seconds it took."""
        if self.tmpdir is None or not self._options:
            raise RuntimeError("PostgresCluster is not started")
        if self._running:
            return 0.0
        started = time.monotonic()
        try:
            self._pg_ctl_start()
        except PostgresStartError as exc:
            raise PostgresStartError(
                f"PostgreSQL failed to restart: {exc}\n{log_tail(self.log_path)}"
            ) from exc
        return time.monotonic() - started

    def restart(self, *, down_s: float = 0.0, mode: StopMode = "fast") -> float:
        """:meth:`halt`, stay down ``down_s`` seconds, :meth:`resume`; returns the
        seconds from the halt until the server accepted connections again."""
        started = time.monotonic()
        self.halt(mode)
        time.sleep(down_s)
        self.resume()
        return time.monotonic() - started

    def stop(self) -> None:
        if self._running and self.tmpdir is not None:
            self._pg_ctl_stop("fast")
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        self._options = ""
        self.port = 0

    def _kill_postmaster(self) -> None:
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
            os.kill(pid, 9)
        except (OSError, ValueError, IndexError):
            pass

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------------------
    def url_for(self, name: str, driver: str = "postgresql+asyncpg") -> str:
        """SQLAlchemy URL of database ``name`` (not created)."""
        validate_db_name(name)
        if not self.port:
            raise RuntimeError("PostgresCluster is not started")
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{validate_db_name(name)}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; return its asyncpg SQLAlchemy URL."""
        validate_db_name(name)
        sql = (
            f"SELECT 'CREATE DATABASE \"{name}\"' "
            f"WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')\\gexec\n"
        )
        self.psql(sql, what=f"creating database {name!r}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (terminating its connections) if it exists."""
        validate_db_name(name)
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\n', what=f"dropping {name!r}")

    def psql(self, sql: str, database: str = "postgres", what: str = "psql") -> str:
        """Run SQL through ``psql`` (ON_ERROR_STOP) as the superuser; return its stdout."""
        if not self.port:
            raise RuntimeError("PostgresCluster is not started")
        cmd = [
            self._exe("psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
        ]
        result = subprocess.run(
            cmd, input=sql, capture_output=True, text=True, timeout=60, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed: {result.stderr.strip()}")
        return result.stdout
