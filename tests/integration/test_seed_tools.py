"""The tools outside the service images drive a real registration process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from devstack.kafka import create_topics
from devstack.pytest_plugin import DatabaseProvider
from inspection.main import service as inspection
from tests.integration.services import REPO, ServiceProcess, inspection_env, running


def test_the_demo_check_passes_against_registration(registration: ServiceProcess) -> None:
    with running(registration):
        done = subprocess.run(
            [sys.executable, "-m", "seed", "registration", "demo", "--base-url", registration.url],
            env={**os.environ, **registration.env},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "consumer counted it" in done.stdout


def test_the_inspection_demo_passes_across_both_services(
    kafka: str, registration: ServiceProcess, postgres_cluster: DatabaseProvider, tmp_path: Path
) -> None:
    create_topics(kafka, inspection.topic_names(), partitions=3)
    database = postgres_cluster.create_database(f"t_inspection_{uuid.uuid4().hex[:8]}")
    office = ServiceProcess("inspection", inspection_env(kafka, database), tmp_path)
    office.migrate()
    with running(registration), running(office):
        done = subprocess.run(
            [sys.executable, "-m", "seed", "inspection", "demo", "--base-url", office.url,
             "--registration-url", registration.url],
            env={**os.environ, **office.env},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr + office.tail()
    assert "registration declared the occupant the visit found" in done.stdout
