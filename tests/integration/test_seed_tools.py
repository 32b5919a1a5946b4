"""The tools outside the service images drive a real registration process."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.integration.services import REPO, ServiceProcess, running


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
    registration: ServiceProcess, inspection_service: ServiceProcess
) -> None:
    office = inspection_service
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
