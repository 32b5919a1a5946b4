"""Each service's image, as operations run it: `migrate` as a one-shot container, then
`serve` as the non-root user on a read-only root filesystem, against Kafka and PostgreSQL
(containers of the devstack plugin, or the local launchers), on host networking."""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from devstack.kafka import create_topics
from devstack.ports import free_port
from devstack.pytest_plugin import DatabaseProvider
from tests.containers.conftest import SERVICES, BuiltImage, docker

pytestmark = [pytest.mark.containers, pytest.mark.integration]

SECRET = "containers-test-secret-0123456789abcdef"


def run_flags(name: str, kafka: str, database_url: str) -> list[str]:
    """What an operator gives a service container: its settings, as environment."""
    prefix = name.upper()
    env = {
        f"{prefix}_DATABASE_URL": database_url,
        f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": kafka,
        f"{prefix}_JWT_SECRET": SECRET,
    }
    flags = ["--network", "host", "--read-only", "--tmpfs", "/tmp"]
    for key, value in env.items():
        flags += ["-e", f"{key}={value}"]
    return flags


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"wentang-it-{uuid.uuid4().hex[:8]}"
    yield name
    docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("name", SERVICES)
def test_the_image_migrates_once_then_serves_as_non_root_on_a_read_only_root(
    name: str,
    service_images: dict[str, BuiltImage],
    kafka_bootstrap: str,
    postgres_cluster: DatabaseProvider,
    container_name: str,
) -> None:
    image = service_images[name]
    create_topics(kafka_bootstrap, importlib.import_module(f"{name}.main").service.topic_names())
    database = postgres_cluster.create_database(f"t_image_{name}_{uuid.uuid4().hex[:6]}")
    flags = run_flags(name, kafka_bootstrap, database)

    # The one-shot: the schema, then exit 0; a second run finds nothing to do.
    for _ in range(2):
        migrated = docker("run", "--rm", *flags, image.tag, "migrate", timeout=120)
        assert migrated.returncode == 0

    port = free_port()
    started = time.monotonic()
    docker("run", "-d", "--name", container_name, *flags, image.tag,
           "serve", "--host", "127.0.0.1", "--port", str(port))  # fmt: skip
    ready = None
    while time.monotonic() - started < 60:
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            if ready.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        state = docker("inspect", "--format", "{{.State.Status}}", container_name).stdout
        assert state.strip() == "running", docker("logs", container_name).stderr[-3000:]
        time.sleep(0.2)
    assert ready is not None and ready.status_code == 200, docker("logs", container_name).stderr
    print(f"{name}: ready {time.monotonic() - started:.1f} s after docker run")

    # Who it runs as, and on what: uid 10001, a read-only root, writable /tmp only.
    assert docker("exec", container_name, "id", "-u").stdout.strip() == "10001"
    inspected = docker("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}",
                       container_name).stdout.split()  # fmt: skip
    assert inspected == ["true", "10001:10001"]
    refused = docker("exec", container_name, "python", "-c", "open('/app/x', 'w')", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    assert docker("exec", container_name, "python", "-c", "open('/tmp/x', 'w')").returncode == 0
    # Its API answers as the service's own (the OpenAPI document names the service).
    openapi = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5)
    assert openapi.status_code == 200 and openapi.json()["paths"]

    # SIGTERM: python is PID 1 and stops cleanly.
    docker("stop", "--time", "20", container_name, timeout=60)
    exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", container_name).stdout
    assert exit_code.strip() == "0", docker("logs", container_name).stderr[-3000:]
