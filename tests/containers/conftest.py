"""The container tier: service images built and run, and ``docker compose up`` of the stack.

It needs a Docker engine (``devstack engine up`` installs and starts one where it may, and
builds the local stand-ins of the official images). Without an engine the tier is
reported as skipped, with the reason, unless ``DEVSTACK_REQUIRE_CONTAINERS=1`` (CI sets
it): then it fails. Images come from ``KAFKA_IMAGE``, ``POSTGRES_IMAGE`` and
``PYTHON_IMAGE`` (``eval "$(devstack engine env)"``), the official ones by default.

Containers use host networking or publish on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import engine
from devstack.stack import discover_services

REPO = Path(__file__).resolve().parents[2]
SERVICES = [spec.name for spec in discover_services(REPO)]
#: The tag the tier builds (not the `dev` tag a developer's own `docker compose build` uses).
TAG = "containers-test"


@dataclass
class BuiltImage:
    service: str
    tag: str
    seconds: float
    size_mb: float


_BUILT: list[BuiltImage] = []
_TIER_S: list[float] = []  # the durations of this tier's test phases


def docker(
    *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``docker ARGS``; the output is kept for the failure message."""
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} ... exit {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")  # fmt: skip
    return result


@pytest.fixture(scope="session")
def images_env() -> dict[str, str]:
    """The image variables of this run, after making sure an engine answers."""
    if not engine.engine_answers():
        reason = (
            "no Docker engine answers: the container tier did not run "
            "(`uv run devstack engine up` installs and starts one)"
        )
        if os.environ.get("DEVSTACK_REQUIRE_CONTAINERS", "") not in ("", "0"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return engine.images_env()


@pytest.fixture(scope="session")
def compose_env(images_env: dict[str, str]) -> dict[str, str]:
    """The environment ``docker compose`` runs with here."""
    return {**os.environ, **images_env, "WENTANG_TAG": TAG}


@pytest.fixture(scope="session")
def service_images(compose_env: dict[str, str]) -> dict[str, BuiltImage]:
    """Every service's image, built once per session through the compose file's build."""
    built: dict[str, BuiltImage] = {}
    for name in SERVICES:
        started = time.monotonic()
        result = subprocess.run(
            ["docker", "compose", "build", name],
            cwd=REPO, env=compose_env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{name}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        tag = f"wentang/{name}:{TAG}"
        size = int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
        built[name] = BuiltImage(name, tag, time.monotonic() - started, size / 1e6)
        _BUILT.append(built[name])
    return built


@pytest.fixture
def project(compose_env: dict[str, str]) -> Iterator[str]:
    """A compose project name of its own; whatever it leaves is removed after the test."""
    name = f"wentang-it-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(
        ["docker", "compose", "-p", name, "down", "-v", "--remove-orphans", "--timeout", "5"],
        cwd=REPO, env=compose_env, capture_output=True, timeout=300, check=False,
    )  # fmt: skip


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith("tests/containers/"):
        _TIER_S.append(report.duration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _TIER_S:
        return
    terminalreporter.section("container tier")
    terminalreporter.write_line(f"tests/containers took {sum(_TIER_S):.1f} s")
    for image in _BUILT:
        terminalreporter.write_line(
            f"{image.tag}: {image.size_mb:.0f} MB, built in {image.seconds:.1f} s"
        )
