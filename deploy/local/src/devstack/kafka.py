"""Apache Kafka 4.1.1, single-node KRaft (combined broker+controller), from Maven Central jars.

The jars are resolved once with Maven into a cache directory outside the repository
(``$DEVSTACK_CACHE/kafka-4.1.1`` or ``~/.cache/devstack/kafka-4.1.1``) and each
:class:`KafkaBroker` runs ``kafka.Kafka`` from that classpath in a throwaway directory.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from devstack._proc import ProcessInTempDir, java_bin, log_tail, run_async
from devstack.ports import free_port

__all__ = [
    "KAFKA_VERSION",
    "POM_PATH",
    "KafkaBroker",
    "KafkaStartError",
    "acreate_topics",
    "cache_dir",
    "create_topics",
    "resolve_classpath",
    "wait_for_kafka",
]

KAFKA_VERSION = "4.1.1"
#: deploy/local/kafka/pom.xml (this file is deploy/local/src/devstack/kafka.py)
POM_PATH = Path(__file__).resolve().parents[2] / "kafka" / "pom.xml"

_LOG4J2_CONFIG = """\
# devstack: Kafka broker logging, WARN and above to the console (the broker log file)
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
"""


class KafkaStartError(RuntimeError):
    """The broker could not be resolved, formatted or started."""


def cache_dir() -> Path:
    """Where the broker jars live: ``$DEVSTACK_CACHE/kafka-<v>`` or ``~/.cache/devstack/...``."""
    root = os.environ.get("DEVSTACK_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "devstack"
    return base / f"kafka-{KAFKA_VERSION}"


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def resolve_classpath(pom: Path | None = None, timeout: float = 600.0) -> Path:
    """Return the directory holding the broker jars (use it as ``-cp "<dir>/*"``).

    Runs ``mvn dependency:copy-dependencies`` the first time (and again when the pom
    changes); a marker file records a complete copy. An ``fcntl`` lock serialises
    concurrent callers (parallel test sessions, several launchers). The log4j2 config
    is written next to the jar directory as ``log4j2.properties``.
    """
    pom = (pom or POM_PATH).resolve()
    if not pom.is_file():
        raise KafkaStartError(f"Kafka pom not found at {pom}")
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    lib = root / "lib"
    marker = root / ".complete"
    digest = _pom_digest(pom)
    with (root / ".lock").open("a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            log4j = root / "log4j2.properties"
            if not log4j.exists() or log4j.read_text() != _LOG4J2_CONFIG:
                log4j.write_text(_LOG4J2_CONFIG)
            if marker.exists() and marker.read_text().strip() == digest and lib.is_dir():
                return lib
            mvn = shutil.which("mvn")
            if mvn is None:
                raise KafkaStartError("`mvn` is not on PATH: cannot resolve the Kafka jars")
            staging = Path(tempfile.mkdtemp(prefix="lib-", dir=root))
            cmd = [
                mvn,
                "-B",
                "-q",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={staging}",
            ]
            # Run from the cache dir so Maven leaves no target/ next to the pom.
            result = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, timeout=timeout, check=False
            )
            if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
                shutil.rmtree(staging, ignore_errors=True)
                raise KafkaStartError(
                    f"mvn dependency:copy-dependencies failed (exit {result.returncode}):\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
                )
            if lib.exists():
                shutil.rmtree(lib)
            staging.rename(lib)
            marker.write_text(digest + "\n")
            return lib
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


async def _probe(bootstrap: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped, unused-ignore]

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=5000, connections_max_idle_ms=10000
    )
    try:
        await admin.start()  # bootstrap: a metadata request must succeed
        await admin.describe_cluster()
    finally:
        await admin.close()


def wait_for_kafka(
    bootstrap: str,
    timeout: float = 60.0,
    proc: subprocess.Popen[Any] | None = None,
) -> None:
    """Block until a real Kafka client can fetch cluster metadata from ``bootstrap``.

    When ``proc`` is given, stop waiting as soon as that process exits.
    """
    deadline = time.monotonic() + timeout
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise KafkaStartError(f"broker process exited with code {proc.returncode}")
        # Cheap TCP check first: the client logs an error for every refused connection.
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                pass
        except OSError as exc:
            last = exc
            time.sleep(0.1)
            continue
        try:
            run_async(lambda: _probe(bootstrap))
            return
        except Exception as exc:
            last = exc
            time.sleep(0.2)
    raise KafkaStartError(f"no Kafka metadata from {bootstrap} within {timeout}s: {last!r}")


async def acreate_topics(bootstrap: str, names: Iterable[str], partitions: int = 3) -> None:
    """Create topics through the Kafka admin API; existing topics are left alone."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped, unused-ignore]
    from aiokafka.errors import TopicAlreadyExistsError, for_code  # type: ignore[import-untyped, unused-ignore]

    wanted = sorted(set(names))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if not missing:
            return
        new = [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing]
        try:
            response = await admin.create_topics(new)
        except TopicAlreadyExistsError:
            return
        for topic_error in getattr(response, "topic_errors", []):
            name, code = topic_error[0], topic_error[1]
            if code in (0, TopicAlreadyExistsError.errno):
                continue
            raise for_code(code)(f"creating topic {name!r} failed: {topic_error}")
    finally:
        await admin.close()


def create_topics(bootstrap: str, names: Iterable[str], partitions: int = 3) -> None:
    """Synchronous :func:`acreate_topics` (idempotent)."""
    names = list(names)
    run_async(lambda: acreate_topics(bootstrap, names, partitions))


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


class KafkaBroker(ProcessInTempDir):
    """A throwaway single-node KRaft Kafka broker on 127.0.0.1.

    ``with KafkaBroker() as kafka: kafka.bootstrap`` or ``start()`` / ``stop()``.
    """

    #: Apache Kafka supports the idempotent (and transactional) producer.
    idempotent_producer = True

    def __init__(
        self,
        *,
        startup_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        heap: str = "512m",
        extra_properties: dict[str, str] | None = None,
    ) -> None:
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.heap = heap
        self.extra_properties = dict(extra_properties or {})
        self.port = 0
        self.controller_port = 0
        self.tmpdir: Path | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        if not self.port:
            raise RuntimeError("KafkaBroker is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("KafkaBroker is not started")
        return self.tmpdir / "broker.log"

    def _properties(self, data_dir: Path) -> str:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(data_dir),
            "num.partitions": "3",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "true",
            "group.initial.rebalance.delay.ms": "0",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "log.retention.hours": "1",
        }
        props.update(self.extra_properties)
        return "".join(f"{k}={v}\n" for k, v in props.items())

    def start(self) -> KafkaBroker:
        if self._proc is not None:
            return self
        started = time.monotonic()
        lib = resolve_classpath()
        log4j = lib.parent / "log4j2.properties"
        self.tmpdir = Path(tempfile.mkdtemp(prefix="devstack-kafka-"))
        try:
            self._launch(lib, log4j)
            assert self._proc is not None
            wait_for_kafka(self.bootstrap, self.startup_timeout, proc=self._proc)
        except BaseException as exc:
            tail = log_tail(self.log_path) if self.tmpdir else ""
            self.stop()
            if isinstance(exc, KafkaStartError | subprocess.SubprocessError | OSError):
                raise KafkaStartError(f"Kafka broker failed to start: {exc}\n{tail}") from exc
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _launch(self, lib: Path, log4j: Path) -> None:
        assert self.tmpdir is not None
        self.port = free_port()
        self.controller_port = free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        config = self.tmpdir / "server.properties"
        config.write_text(self._properties(self.tmpdir / "data"))
        java = java_bin()
        classpath = f"{lib}/*"
        log_opt = f"-Dlog4j2.configurationFile={log4j}"
        fmt = subprocess.run(
            [
                java,
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                log_opt,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                # `=` form: a base64url id may start with "-", which a separate
                # argument would read as an option (1 run in 64 failed that way).
                f"--cluster-id={_cluster_id()}",
                "-c",
                str(config),
                "--standalone",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if fmt.returncode != 0:
            raise KafkaStartError(
                f"StorageTool format failed (exit {fmt.returncode}):\n{fmt.stdout}\n{fmt.stderr}"
            )
        self._log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [
                java,
                f"-Xmx{self.heap}",
                "-Xms256m",
                "-XX:+UseSerialGC",
                "-Djava.awt.headless=true",
                log_opt,
                "-cp",
                classpath,
                "kafka.Kafka",
                str(config),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.tmpdir,
            start_new_session=True,
        )

    def stop(self) -> None:
        super().stop()
        self.port = 0
        self.controller_port = 0
