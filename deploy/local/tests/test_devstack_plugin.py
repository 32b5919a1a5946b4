"""Selection logic of devstack.pytest_plugin (unit tests; env is monkeypatched)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time

import pytest

from devstack import pytest_plugin as plugin


def _names(candidates: list[tuple[str, object]]) -> list[str]:
    return [name for name, _ in candidates]


def test_kafka_order_without_env() -> None:
    names = _names(plugin.kafka_candidates({}))
    # the official image, or its local stand-in where `devstack engine up` built one
    assert names[0] == f"testcontainers {plugin.kafka_image({})} (Docker)"
    assert plugin.kafka_image({}) in ("apache/kafka:4.1.1", "wentang-local/kafka:4.1.1")
    assert names[1].startswith("local KafkaBroker")
    assert len(names) == 2


def test_kafka_env_override_is_used_alone() -> None:
    names = _names(plugin.kafka_candidates({"KAFKA_BOOTSTRAP_SERVERS": "h:9092"}))
    assert names == ["$KAFKA_BOOTSTRAP_SERVERS=h:9092"]
    assert _names(plugin.kafka_candidates({"KAFKA_BOOTSTRAP_SERVERS": "  "}))[0].startswith(
        "testcontainers"
    )


def test_embedded_order() -> None:
    assert _names(plugin.embedded_candidates({}))[0].startswith("local TansuBroker")
    env = {"EMBEDDED_BOOTSTRAP_SERVERS": "e:1"}
    assert _names(plugin.embedded_candidates(env)) == ["$EMBEDDED_BOOTSTRAP_SERVERS=e:1"]


def test_postgres_order() -> None:
    names = _names(plugin.postgres_candidates({}))
    assert names[0] == f"testcontainers {plugin.postgres_image({})} (Docker)"
    assert names[1].startswith("local PostgresCluster")
    env = {"DATABASE_URL_TEMPLATE": "postgresql+asyncpg://u:p@h:5432/{name}"}
    assert _names(plugin.postgres_candidates(env)) == [
        "$DATABASE_URL_TEMPLATE=postgresql+asyncpg://u:p@h:5432/{name}"
    ]


def test_the_backend_is_chosen_by_one_switch() -> None:
    kafka = {"KAFKA_IMAGE": "example/kafka:1"}
    assert _names(plugin.kafka_candidates({**kafka, "DEVSTACK_BACKEND": "containers"})) == [
        "testcontainers example/kafka:1 (Docker)"
    ]
    assert _names(plugin.kafka_candidates({"DEVSTACK_BACKEND": "local"})) == [
        "local KafkaBroker (Maven jars + java)"
    ]
    postgres = {"POSTGRES_IMAGE": "example/pg:15", "DEVSTACK_BACKEND": "containers"}
    assert _names(plugin.postgres_candidates(postgres)) == ["testcontainers example/pg:15 (Docker)"]
    assert _names(plugin.postgres_candidates({"DEVSTACK_USE_DOCKER": "0"})) == [
        "local PostgresCluster (initdb/pg_ctl)"
    ]
    assert plugin.backend({}) == plugin.backend({"DEVSTACK_BACKEND": " "}) == "auto"
    with pytest.raises(ValueError, match="DEVSTACK_BACKEND='docker'"):
        plugin.backend({"DEVSTACK_BACKEND": "docker"})


def test_first_working_falls_through_and_cleans_up() -> None:
    events: list[str] = []

    def broken(stack: contextlib.ExitStack) -> str:
        stack.callback(events.append, "cleanup-broken")
        raise RuntimeError("no engine")

    def works(stack: contextlib.ExitStack) -> str:
        stack.callback(events.append, "cleanup-works")
        return "value"

    gen = plugin.first_working("thing", [("a", broken), ("b", works)])
    assert next(gen) == "value"
    assert events == ["cleanup-broken"]
    with pytest.raises(StopIteration):
        next(gen)
    assert events == ["cleanup-broken", "cleanup-works"]


def test_first_working_fails_never_skips() -> None:
    def broken(stack: contextlib.ExitStack) -> str:
        raise RuntimeError("boom")

    gen = plugin.first_working("a Kafka broker", [("docker", broken), ("local", broken)])
    with pytest.raises(pytest.fail.Exception) as info:
        next(gen)
    message = str(info.value)
    assert "a Kafka broker" in message
    assert "docker: RuntimeError: boom" in message and "local: RuntimeError: boom" in message


def test_docker_probe_is_fast_without_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin.docker_available.cache_clear()
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    started = time.monotonic()
    assert plugin.docker_available() is False
    assert time.monotonic() - started < 4
    plugin.docker_available.cache_clear()


def test_docker_can_be_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin.docker_available.cache_clear()
    monkeypatch.setenv("DEVSTACK_USE_DOCKER", "0")
    assert plugin.docker_available() is False
    plugin.docker_available.cache_clear()


def test_testcontainers_candidate_refuses_without_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin.docker_available.cache_clear()
    monkeypatch.setenv("DEVSTACK_USE_DOCKER", "0")
    with contextlib.ExitStack() as stack, pytest.raises(RuntimeError, match="no Docker engine"):
        plugin.kafka_candidates({})[0][1](stack)
    plugin.docker_available.cache_clear()


def test_env_kafka_unreachable_fails_clearly() -> None:
    from devstack.ports import free_port

    address = f"127.0.0.1:{free_port()}"
    start = plugin._kafka_from_env(address, timeout=0.5)
    gen = plugin.first_working(
        "an Apache Kafka broker", [(f"$KAFKA_BOOTSTRAP_SERVERS={address}", start)]
    )
    with pytest.raises(
        pytest.fail.Exception, match=r"KAFKA_BOOTSTRAP_SERVERS=127\.0\.0\.1.*KafkaStartError"
    ):
        next(gen)


def test_template_needs_placeholder() -> None:
    with pytest.raises(ValueError, match="name"):
        plugin.TemplateDatabases("postgresql+asyncpg://u@h/db")
    t = plugin.TemplateDatabases("postgresql+asyncpg://u:p@h:5432/{name}")
    assert t.url_for("x") == "postgresql+asyncpg://u:p@h:5432/x"
    assert plugin._asyncpg_dsn(t.url_for("x")) == "postgresql://u:p@h:5432/x"


def test_import_is_cheap() -> None:
    code = (
        "import sys, devstack.pytest_plugin; "
        "heavy = {'aiokafka', 'testcontainers', 'docker', 'asyncpg', 'httpx'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
