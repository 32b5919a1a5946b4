"""The example service (``examples/noticeboard``) is found by the tools that find services.

They look under ``<root>/services/``; the example is placed there in a temporary
repository (a link, so the files are the example's own), beside a copy of registration's
committed schemas, which the example's reader of ``registration.PropertyRegistered`` is
checked against. Its own tests (in-process, on the kit's test scaffolding) are collected
from ``examples/`` with the rest of the suite; its Kubernetes manifests and compose files
are generated there (``python -m devstack.deploy``), the manifests rendered with kustomize.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from common import contract
from devstack import deploy
from devstack.stack import discover_services

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "noticeboard"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "noticeboard").symlink_to(EXAMPLE, target_is_directory=True)
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(REPO / "schemas" / "registration", tmp_path / "schemas" / "registration")
    return tmp_path


def test_the_contract_tools_write_and_check_the_example(root: Path) -> None:
    assert contract.discover_services(root) == ["noticeboard"]
    assert sorted(contract.write(root)) == [
        "schemas/noticeboard/EVENTS.md",
        "schemas/noticeboard/NoticePosted.v1.json",
        "schemas/noticeboard/asyncapi.json",
    ]
    assert contract.check(root, base=None) == []

    asyncapi = json.loads((root / "schemas/noticeboard/asyncapi.json").read_text())
    addresses = {name: channel["address"] for name, channel in asyncapi["channels"].items()}
    # What it publishes, and its consumer group's subscription to registration's events.
    assert addresses == {
        "noticeboard.events": "noticeboard.events",
        "noticeboard.buildings": "registration.events",
    }


def test_the_examples_reader_is_held_to_registrations_committed_schema(root: Path) -> None:
    contract.write(root)
    committed = root / "schemas/registration/PropertyRegistered.v1.json"
    schema = json.loads(committed.read_text())
    schema["required"].remove("grid_id")  # registration would stop promising it
    committed.write_text(json.dumps(schema))

    (problem,) = contract.check(root, base=None)
    assert problem.startswith("reader: noticeboard.upstream.registration.PropertyRegistered")
    assert problem.endswith(
        "properties.grid_id: required by the reader, but the writer may leave it out"
    )


def test_devstack_discovers_the_example_at_its_declared_port(root: Path) -> None:
    (spec,) = discover_services(root)
    assert (spec.name, spec.port, spec.env_prefix) == ("noticeboard", 8090, "NOTICEBOARD")


def test_the_deploy_generator_gives_the_example_its_manifests(root: Path) -> None:
    shutil.copytree(REPO / "deploy/k8s/templates", root / "deploy/k8s/templates")
    shutil.copytree(REPO / "deploy/compose/templates", root / "deploy/compose/templates")
    (root / "deploy/k8s/base").mkdir()
    shutil.copy(REPO / "deploy/k8s/base/namespace.yaml", root / "deploy/k8s/base")
    written = deploy.write(root)
    assert "deploy/k8s/base/noticeboard/deployment.yaml" in written
    assert "deploy/k8s/infra/postgres/noticeboard-db.yaml" in written
    assert {"deploy/compose/services/noticeboard.yml", "docker-compose.yml"} <= set(written)

    user = yaml.safe_load((root / "deploy/k8s/infra/kafka/user-noticeboard.yaml").read_text())
    acls = {
        (rule["resource"]["name"], tuple(rule["operations"]))
        for rule in user["spec"]["authorization"]["acls"]
    }
    assert acls == {
        ("noticeboard.events", ("Write", "Describe")),
        ("registration.events", ("Read", "Describe")),
        ("registration.events.dlq", ("Write", "Describe")),
        ("noticeboard.", ("Read", "Describe")),
    }
    # registration.events is not declared in this root (no registration here).
    assert any("uses registration.events," in p for p in deploy.check(root))
    edited = root / "deploy/k8s/base/noticeboard/deployment.yaml"
    edited.write_text(edited.read_text().replace("replicas: 2", "replicas: 5"))
    assert (
        "drift: deploy/k8s/base/noticeboard/deployment.yaml; run `python -m devstack.deploy write`"
        in deploy.check(root)
    )
    deploy.write(root)

    kustomize = shutil.which("kubectl")
    assert kustomize, "kubectl renders deploy/k8s offline"
    rendered = subprocess.run(
        [kustomize, "kustomize", str(root / "deploy/k8s/base")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    objects = {(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(rendered) if o}
    assert ("Deployment", "noticeboard") in objects
    (dep,) = [o for o in yaml.safe_load_all(rendered) if o and o["kind"] == "Deployment"]
    (main,) = dep["spec"]["template"]["spec"]["containers"]
    assert main["image"] == "wentang/noticeboard:latest"
    names = {e["name"] for e in main["env"]}
    assert {"NOTICEBOARD_DATABASE_URL", "NOTICEBOARD_KAFKA_SASL_PASSWORD"} <= names


def test_the_deploy_generator_gives_the_example_its_compose_services(root: Path) -> None:
    shutil.copytree(REPO / "deploy/k8s/templates", root / "deploy/k8s/templates")
    shutil.copytree(REPO / "deploy/compose/templates", root / "deploy/compose/templates")
    deploy.write(root)

    main = yaml.safe_load((root / "docker-compose.yml").read_text())
    assert main["include"] == [
        {"path": "deploy/compose/services/noticeboard.yml", "project_directory": "."}
    ]
    postgres = main["services"]["postgres"]["environment"]
    assert postgres["SERVICE_DATABASES"] == "noticeboard"
    assert postgres["NOTICEBOARD_DB_PASSWORD"] == "${NOTICEBOARD_DB_PASSWORD:-noticeboard-dev-only}"
    # What it publishes; registration.events (and its .dlq) are registration's to declare,
    # and this root has no topics-external.yaml.
    topics = main["services"]["kafka-topics"]["environment"]["KAFKA_TOPICS"]
    assert topics.split() == ["noticeboard.events:6"]

    services = yaml.safe_load((root / "deploy/compose/services/noticeboard.yml").read_text())
    server, migrate = (
        services["services"]["noticeboard"],
        services["services"]["noticeboard-migrate"],
    )
    assert server["ports"] == ["127.0.0.1:${NOTICEBOARD_HOST_PORT:-8091}:8000"]  # devstack 8090
    assert server["build"]["dockerfile"] == "services/noticeboard/Dockerfile"
    assert server["image"] == migrate["image"] == "wentang/noticeboard:${WENTANG_TAG:-dev}"
    assert migrate["command"] == ["migrate"]
    assert set(server["depends_on"]) == {"kafka", "kafka-topics", "postgres", "noticeboard-migrate"}
    env = server["environment"]
    assert env["NOTICEBOARD_DATABASE_URL"] == (
        "postgresql+asyncpg://noticeboard:${NOTICEBOARD_DB_PASSWORD:-noticeboard-dev-only}"
        "@postgres:5432/noticeboard"
    )
    assert all(name.startswith("NOTICEBOARD_") for name in env)

    # Drift and stale files are reported, and write puts them right.
    edited = root / "deploy/compose/services/noticeboard.yml"
    edited.write_text(edited.read_text().replace(":8000", ":9000"))
    stale = root / "deploy/compose/services/gone.yml"
    stale.write_text(edited.read_text())
    problems = deploy.check(root)
    assert (
        "drift: deploy/compose/services/noticeboard.yml; run `python -m devstack.deploy write`"
        in problems
    )
    assert any(p.startswith("stale: deploy/compose/services/gone.yml") for p in problems)
    assert set(deploy.write(root)) == {
        "deploy/compose/services/noticeboard.yml",
        "deploy/compose/services/gone.yml",
    }
    assert not stale.exists()
    assert not [p for p in deploy.check(root) if not p.startswith("undeclared:")]
