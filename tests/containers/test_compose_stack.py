"""``docker compose up`` of the whole stack from the repository's own docker-compose.yml:
Kafka, PostgreSQL, the topics, every service's migration and server. A declaration goes
through registration's container, over Kafka, into inspection's container; ``docker
compose down -v`` leaves nothing behind."""

from __future__ import annotations

import secrets
import subprocess
import time
import uuid
from datetime import date

import httpx
import pytest

from common.auth import mint_token
from common.identity import check_character
from devstack.ports import free_port
from tests.containers.conftest import REPO, SERVICES, BuiltImage, docker

pytestmark = [pytest.mark.containers, pytest.mark.integration]


def compose(project: str, env: dict[str, str], *args: str, timeout: float = 600) -> str:
    result = subprocess.run(
        ["docker", "compose", "-p", project, *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (
        f"compose {' '.join(args)}:\n{result.stdout[-4000:]}\n" + (result.stderr[-4000:])
    )
    return result.stdout


def left_by(project: str) -> dict[str, list[str]]:
    """Containers, volumes and networks of the compose project still there."""
    label = f"label=com.docker.compose.project={project}"
    return {
        kind: docker(*command, "--filter", label, "--format", field).stdout.split()
        for kind, command, field in (
            ("containers", ("ps", "-a"), "{{.Names}}"),
            ("volumes", ("volume", "ls"), "{{.Name}}"),
            ("networks", ("network", "ls"), "{{.Name}}"),
        )
    }


def test_compose_up_runs_a_declaration_through_the_service_containers(
    service_images: dict[str, BuiltImage], compose_env: dict[str, str], project: str
) -> None:
    secret = secrets.token_urlsafe(32)
    ports = {name: free_port() for name in SERVICES}
    env = {
        **compose_env,
        "KAFKA_HOST_PORT": str(free_port()),
        "POSTGRES_HOST_PORT": str(free_port()),
        **{f"{name.upper()}_HOST_PORT": str(port) for name, port in ports.items()},
        **{f"{name.upper()}_JWT_SECRET": secret for name in SERVICES},
    }
    started = time.monotonic()
    compose(project, env, "up", "-d", "--wait", "--wait-timeout", "240")
    up_s = time.monotonic() - started
    states = compose(project, env, "ps", "-a", "--format", "{{.Service}} {{.State}} {{.ExitCode}}")
    for line in states.splitlines():
        _service, state, code = line.split()
        assert (state, code) in (("running", "0"), ("exited", "0")), states
    registration = f"http://127.0.0.1:{ports['registration']}"
    inspection = f"http://127.0.0.1:{ports['inspection']}"

    def bearer(role: str, scopes: list[str], **claims: object) -> dict[str, str]:
        token = mint_token(secret, sub=f"ct-{role}", role=role, scopes=scopes, **claims)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    grid = f"CT-{uuid.uuid4().hex[:6]}"
    admin = bearer("admin", ["registration:write"])
    landlord = bearer("landlord", ["registration:write"], party_id="L-CT")
    officer = bearer("officer", ["registration:write", "registration:read"], grids=[grid])

    def with_key(request: httpx.Request) -> None:  # every command carries its own key
        request.headers.setdefault("Idempotency-Key", uuid.uuid4().hex)

    with httpx.Client(timeout=10, event_hooks={"request": [with_key]}) as http:
        made = http.post(f"{registration}/grids", headers=admin,
                         json={"grid_id": grid, "name": grid, "community": "CT"})  # fmt: skip
        assert made.status_code == 201, made.text
        building = http.post(
            f"{registration}/properties", headers=landlord,
            json={"address": "Container Lane 1", "grid_id": grid, "landlord_id": "L-CT",
                  "rooms": [{"room_no": "101", "capacity": 2}]},
        )  # fmt: skip
        assert building.status_code == 201, building.text
        first17 = "44030619900101123"
        declared = http.post(
            f"{registration}/properties/{building.json()['property_id']}/residences",
            headers=officer,
            json={"id_number": first17 + check_character(first17), "name": "Container Test",
                  "room_no": "101", "moved_in_on": date.today().isoformat()},
        )  # fmt: skip
        assert declared.status_code == 201, declared.text
        first_declaration_s = time.monotonic() - started

        # Over Kafka, between containers: inspection's registry knows the building and its
        # resident, and draws it into a plan.
        inspector = bearer("officer", ["inspection:write", "inspection:read"], grids=[grid])
        deadline = time.monotonic() + 60
        while True:
            plan = http.post(f"{inspection}/plans", headers=inspector,
                             json={"grid_id": grid, "month": date.today().strftime("%Y-%m"),
                                   "size": 1, "seed": uuid.uuid4().hex})  # fmt: skip
            # 422 "no registered properties" until the event has arrived
            assert plan.status_code in (201, 422), plan.text
            if plan.status_code == 201 and plan.json()["candidates"] == 1:
                break
            assert time.monotonic() < deadline, compose(project, env, "logs", "inspection")
            time.sleep(0.5)
    print(
        f"compose up --wait {up_s:.1f} s; first declaration answered {first_declaration_s:.1f} s"
        f" after `up`; inspection had it {time.monotonic() - started:.1f} s after"
    )

    compose(project, env, "down", "-v", "--remove-orphans", "--timeout", "20")
    assert left_by(project) == {"containers": [], "volumes": [], "networks": []}
