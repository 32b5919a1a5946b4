"""Apache Kafka 4.1.1, single-node KRaft (combined broker+controller), from Maven Central jars.

The jars are resolved once with Maven into a cache directory outside the repository
(``$DEVSTACK_CACHE/kafka-4.1.1`` or ``~/.cache/devstack/kafka-4.1.1``) and each
:class:`KafkaBroker` runs ``kafka.Kafka`` from that classpath in a throwaway directory.

``KafkaBroker(scram_users={"registration": "pw", ...})`` is the opt-in authenticated
mode: the client listener is SASL_PLAINTEXT with SCRAM-SHA-512 only, the credentials are
written into the cluster metadata when the storage is formatted (``--add-scram``), and
``StandardAuthorizer`` enforces ACLs (nothing is allowed without one) for every principal
except the super user ``admin`` (random password, see :meth:`KafkaBroker.client_options`).
:func:`acreate_acls` adds ACLs through the admin API. The controller listener stays
PLAINTEXT on 127.0.0.1, and its principal ``User:ANONYMOUS`` is a super user: the
broker registers with its own controller over it. Clients never reach it through the
bootstrap address.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from devstack._proc import ProcessInTempDir, java_bin, log_tail, run_async, stop_process
from devstack.ports import free_port

__all__ = [
    "KAFKA_VERSION",
    "POM_PATH",
    "SUPER_USER",
    "Acl",
    "KafkaBroker",
    "KafkaStartError",
    "acreate_acls",
    "acreate_topics",
    "cache_dir",
    "create_acls",
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


async def _probe(bootstrap: str, client_options: Mapping[str, Any] | None = None) -> None:
    from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped, unused-ignore]

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=5000,
        connections_max_idle_ms=10000,
        **dict(client_options or {}),
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
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Block until a real Kafka client can fetch cluster metadata from ``bootstrap``.

    When ``proc`` is given, stop waiting as soon as that process exits.
    ``client_options``: aiokafka security options (SASL) for an authenticated listener.
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
            run_async(lambda: _probe(bootstrap, client_options))
            return
        except Exception as exc:
            last = exc
            time.sleep(0.2)
    raise KafkaStartError(f"no Kafka metadata from {bootstrap} within {timeout}s: {last!r}")


async def acreate_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 3,
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Create topics through the Kafka admin API; existing topics are left alone."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped, unused-ignore]
    from aiokafka.errors import TopicAlreadyExistsError, for_code  # type: ignore[import-untyped, unused-ignore]

    wanted = sorted(set(names))
    if not wanted:
        return
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=15000, **dict(client_options or {})
    )
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


def create_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 3,
    client_options: Mapping[str, Any] | None = None,
) -> None:
    """Synchronous :func:`acreate_topics` (idempotent)."""
    names = list(names)
    run_async(lambda: acreate_topics(bootstrap, names, partitions, client_options))


# --------------------------------------------------------------------------- ACLs
# Kafka's wire codes (org.apache.kafka.common.{resource,acl}).
_RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4, "transactionalId": 5}
_PATTERN_TYPES = {"literal": 3, "prefix": 4}
_OPERATIONS = {
    "All": 2,
    "Read": 3,
    "Write": 4,
    "Create": 5,
    "Delete": 6,
    "Alter": 7,
    "Describe": 8,
    "ClusterAction": 9,
    "DescribeConfigs": 10,
    "AlterConfigs": 11,
    "IdempotentWrite": 12,
}
_PERMISSIONS = {"deny": 2, "allow": 3}


@dataclass(frozen=True)
class Acl:
    """One Kafka ACL binding, spelt like a Strimzi ``KafkaUser`` rule.

    ``Acl("User:registration", "topic", "registration.events", "Write")``; the cluster
    resource is named ``kafka-cluster``.
    """

    principal: str
    resource_type: Literal["topic", "group", "cluster", "transactionalId"]
    name: str
    operation: str
    pattern_type: Literal["literal", "prefix"] = "literal"
    permission: Literal["allow", "deny"] = "allow"
    host: str = "*"

    def wire(self) -> tuple[int, str, int, str, str, int, int]:
        """The CreateAcls v1 creation tuple."""
        return (
            _RESOURCE_TYPES[self.resource_type],
            self.name,
            _PATTERN_TYPES[self.pattern_type],
            self.principal,
            self.host,
            _OPERATIONS[self.operation],
            _PERMISSIONS[self.permission],
        )


def _acl_requests() -> tuple[type, type]:
    """CreateAcls and DescribeAcls pinned to v1 (aiokafka has no ACL admin API)."""
    from aiokafka.protocol.admin import (  # type: ignore[import-untyped, unused-ignore]
        CreateAclsRequest_v1,
        DescribeAclsRequest_v1,
    )
    from aiokafka.protocol.api import Request  # type: ignore[import-untyped, unused-ignore]

    class CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc, unused-ignore]
        API_KEY = 30

        def __init__(self, creations: list[tuple[Any, ...]]) -> None:
            self.creations = creations

        def build(self, request_struct_class: Any) -> Any:
            return request_struct_class(self.creations)

    class DescribeAllAcls(Request[DescribeAclsRequest_v1]):  # type: ignore[misc, unused-ignore]
        API_KEY = 29

        def build(self, request_struct_class: Any) -> Any:
            # any resource type (1), any name, any pattern (1), any principal, host,
            # operation (1), permission (1)
            return request_struct_class(1, None, 1, None, None, 1, 1)

    return CreateAcls, DescribeAllAcls


async def acreate_acls(
    bootstrap: str,
    acls: Iterable[Acl],
    client_options: Mapping[str, Any] | None = None,
    visible_within_s: float = 15.0,
) -> None:
    """Create ACLs (as a super user) and wait until the broker enforces all of them."""
    from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped, unused-ignore]
    from aiokafka.errors import for_code  # type: ignore[import-untyped, unused-ignore]

    wanted = list(dict.fromkeys(acls))
    if not wanted:
        return
    create, describe = _acl_requests()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=15000, **dict(client_options or {})
    )
    await admin.start()
    try:
        response = await admin._send_request(create([a.wire() for a in wanted]))
        for acl, (code, message) in zip(wanted, response.creation_responses, strict=True):
            if code:
                raise for_code(code)(f"creating {acl} failed: {message}")
        expected = {a.wire() for a in wanted}
        deadline = time.monotonic() + visible_within_s
        while True:
            described = await admin._send_request(describe())
            present = {
                (rtype, rname, ptype, principal, host, op, perm)
                for rtype, rname, ptype, bindings in described.resources
                for principal, host, op, perm in bindings
            }
            if expected <= present:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"ACLs not visible in {visible_within_s}s: {expected - present}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


def create_acls(
    bootstrap: str, acls: Iterable[Acl], client_options: Mapping[str, Any] | None = None
) -> None:
    """Synchronous :func:`acreate_acls`."""
    acls = list(acls)
    run_async(lambda: acreate_acls(bootstrap, acls, client_options))


def _cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


#: The super user of the authenticated mode (ACLs do not apply to it).
SUPER_USER = "admin"
#: What ``--add-scram`` takes unquoted, and a JAAS string without escaping.
_SCRAM_TOKEN = re.compile(r"^[A-Za-z0-9._-]+$")
_SASL_MECHANISM = "SCRAM-SHA-512"


class KafkaBroker(ProcessInTempDir):
    """A throwaway single-node KRaft Kafka broker on 127.0.0.1.

    ``with KafkaBroker() as kafka: kafka.bootstrap`` or ``start()`` / ``stop()``.
    Fault tests stop and start the same broker, its data and ports kept: :meth:`halt`
    (clean, or ``kill=True`` for a crash), :meth:`resume`, or :meth:`restart` for both.
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
        scram_users: Mapping[str, str] | None = None,
    ) -> None:
        """``scram_users`` (user -> password) switches on SASL/SCRAM-SHA-512 and ACLs.

        Names and passwords: letters, digits, ``.``, ``_`` and ``-`` only.
        """
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.heap = heap
        self.extra_properties = dict(extra_properties or {})
        self.scram_users: dict[str, str] | None = None
        if scram_users is not None:
            if SUPER_USER in scram_users:
                raise ValueError(f"{SUPER_USER!r} is the launcher's own super user")
            users = {SUPER_USER: secrets.token_urlsafe(24), **scram_users}
            for user, password in users.items():
                if not (_SCRAM_TOKEN.match(user) and _SCRAM_TOKEN.match(password)):
                    raise ValueError(f"SCRAM user {user!r}: use [A-Za-z0-9._-] only")
            self.scram_users = users
        self.port = 0
        self.controller_port = 0
        self.tmpdir: Path | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        #: The broker's command line (set by the first start; a restart runs it again).
        self._command: list[str] = []

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

    @property
    def authenticated(self) -> bool:
        """True in the SASL/SCRAM + ACL mode."""
        return self.scram_users is not None

    def client_options(self, user: str = SUPER_USER) -> dict[str, Any]:
        """aiokafka keyword arguments to connect as ``user`` (``{}`` without SASL)."""
        if self.scram_users is None:
            return {}
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": _SASL_MECHANISM,
            "sasl_plain_username": user,
            "sasl_plain_password": self.scram_users[user],
        }

    def _listener_properties(self) -> dict[str, str]:
        controller = f"CONTROLLER://127.0.0.1:{self.controller_port}"
        if self.scram_users is None:
            return {
                "listeners": f"PLAINTEXT://127.0.0.1:{self.port},{controller}",
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
                "inter.broker.listener.name": "PLAINTEXT",
                "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            }
        admin = self.scram_users[SUPER_USER]
        return {
            "listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port},{controller}",
            "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{self.port}",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": _SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": _SASL_MECHANISM,
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{SUPER_USER}" password="{admin}";'
            ),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # ANONYMOUS: the broker's own requests on the PLAINTEXT controller listener.
            "super.users": f"User:{SUPER_USER};User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
        }

    def _properties(self, data_dir: Path) -> str:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            **self._listener_properties(),
            "controller.listener.names": "CONTROLLER",
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
        if self._command:  # started before: running, or halted (then start it again)
            self.resume()
            return self
        started = time.monotonic()
        lib = resolve_classpath()
        log4j = lib.parent / "log4j2.properties"
        self.tmpdir = Path(tempfile.mkdtemp(prefix="devstack-kafka-"))
        try:
            self._launch(lib, log4j)
            assert self._proc is not None
            wait_for_kafka(
                self.bootstrap,
                self.startup_timeout,
                proc=self._proc,
                client_options=self.client_options(),
            )
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
                *self._scram_arguments(),
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
        self._command = [
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
        ]
        self._spawn()

    def _spawn(self) -> None:
        assert self.tmpdir is not None and self._log is not None and self._command
        self._proc = subprocess.Popen(
            self._command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.tmpdir,
            start_new_session=True,
        )

    def _scram_arguments(self) -> list[str]:
        """``--add-scram`` per user: credentials in the metadata from the first start."""
        args: list[str] = []
        for user, password in (self.scram_users or {}).items():
            args.append(f"--add-scram={_SASL_MECHANISM}=[name={user},password={password}]")
        return args

    # -- faults: the same broker, stopped and started again with its data ---------------
    @property
    def running(self) -> bool:
        """True while the JVM runs (False after :meth:`halt`, until :meth:`resume`)."""
        return self._proc is not None and self._proc.poll() is None

    def halt(self, *, kill: bool = False) -> None:
        """Stop the JVM and keep everything else: log dirs, config, ports, log file.

        ``kill=False`` is a clean shutdown (SIGTERM: the broker flushes its logs and
        writes its producer-state snapshots); ``kill=True`` is a crash (SIGKILL: the
        next start recovers the logs). :meth:`resume` starts it again.
        """
        if self.tmpdir is None or not self._command:
            raise RuntimeError("KafkaBroker is not started")
        if self._proc is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            self._proc.wait(timeout=30)
        else:
            stop_process(self._proc, self.stop_timeout)
        self._proc = None

    def resume(self) -> float:
        """Start the halted broker again on the same ports with the same data; wait
        until it serves metadata. Returns the seconds that took."""
        if self.tmpdir is None or not self._command:
            raise RuntimeError("KafkaBroker is not started")
        if self.running:
            return 0.0
        started = time.monotonic()
        self._spawn()
        assert self._proc is not None
        try:
            wait_for_kafka(
                self.bootstrap,
                self.startup_timeout,
                proc=self._proc,
                client_options=self.client_options(),
            )
        except KafkaStartError as exc:
            raise KafkaStartError(
                f"Kafka broker failed to restart: {exc}\n{log_tail(self.log_path)}"
            ) from exc
        return time.monotonic() - started

    def restart(self, *, down_s: float = 0.0, kill: bool = False) -> float:
        """:meth:`halt`, stay down ``down_s`` seconds, :meth:`resume`; returns the
        seconds from the halt until the broker served metadata again."""
        started = time.monotonic()
        self.halt(kill=kill)
        time.sleep(down_s)
        self.resume()
        return time.monotonic() - started

    def stop(self) -> None:
        super().stop()
        self._command = []
        self.port = 0
        self.controller_port = 0
