"""The local stand-ins of `devstack engine up` keep the official images' conventions, so the
same compose file and tests run with either (the compose and image tests run them whole)."""

from __future__ import annotations

import os

import pytest

from devstack import engine
from tests.containers.conftest import docker

pytestmark = [pytest.mark.containers, pytest.mark.integration]


@pytest.fixture(scope="module")
def stand_ins(images_env: dict[str, str]) -> dict[str, str]:
    absent = [i for i in engine.LOCAL_IMAGES.values() if engine.image_digest(i) is None]
    if absent:
        reason = f"the local stand-ins {', '.join(absent)} are not built (devstack engine up)"
        if os.environ.get("DEVSTACK_REQUIRE_CONTAINERS", "") not in ("", "0"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return engine.LOCAL_IMAGES


def test_kafka_takes_its_settings_from_the_environment_as_the_official_image(
    stand_ins: dict[str, str],
) -> None:
    image = stand_ins["KAFKA_IMAGE"]
    configured = docker(
        "run", "--rm", "-e", "KAFKA_NODE_ID=7", "-e", "KAFKA_HEAP_OPTS=-Xmx1g",
        "-e", "KAFKA_LISTENER_NAME_INTERNAL_SSL_KEY___STORE__TYPE=PKCS12",
        image, "bash", "-c", 'cat "$(/etc/kafka/docker/configure)"',
    ).stdout.splitlines()  # fmt: skip
    assert sorted(configured) == ["listener.name.internal.ssl.key-store_type=PKCS12", "node.id=7"]
    defaults = docker("run", "--rm", image, "bash", "-c", 'cat "$(/etc/kafka/docker/configure)"')
    assert "process.roles=broker,controller" in defaults.stdout.splitlines()
    user = docker("run", "--rm", image, "id", "-un").stdout.strip()
    assert user == "appuser"
    for tool in ("kafka-topics.sh", "kafka-broker-api-versions.sh", "kafka-storage.sh"):
        helped = docker("run", "--rm", image, f"/opt/kafka/bin/{tool}", "--help", check=False)
        assert "--help" in helped.stdout + helped.stderr, tool  # the tool's own usage


def test_postgres_refuses_an_uninitialised_start_without_a_password(
    stand_ins: dict[str, str],
) -> None:
    refused = docker("run", "--rm", stand_ins["POSTGRES_IMAGE"], check=False, timeout=60)
    assert refused.returncode == 1
    assert "POSTGRES_PASSWORD is not set" in refused.stderr


def test_python_is_where_the_service_dockerfile_expects_it(stand_ins: dict[str, str]) -> None:
    image = stand_ins["PYTHON_IMAGE"]
    version = docker("run", "--rm", image, "/usr/local/bin/python3.11", "--version").stdout
    assert version.startswith("Python 3.11.")
    pip = docker("run", "--rm", image, "pip", "--version").stdout
    assert "python 3.11" in pip
