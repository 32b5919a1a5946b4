"""Offline checks of the deployment artefacts: Kubernetes manifests, compose file, Dockerfiles.

Nothing here needs a cluster, a Docker engine or the network:

* each overlay of ``deploy/k8s`` is rendered with ``kubectl kustomize`` and every built-in
  object is validated strictly (unknown fields are errors) against the Kubernetes OpenAPI
  schemas bundled in the ``kubernetes-validate`` package. Operator custom resources
  (Strimzi, CloudNativePG) have no bundled schema: they are recorded as skipped, and the
  skipped set must be exactly the expected CRD kinds, so no other kind slips through;
* Kafka access: every listener authenticates, the cluster authorizes, every Deployment
  that talks to Kafka gets its credentials from its KafkaUser's Secret, the restricted
  topics are read only by the principals listed here, and registration's ACLs are exactly
  what its code publishes and consumes;
* ``docker-compose.yml`` and the service files it includes (``deploy/compose/services``)
  are parsed (anchors and merge keys resolved) and checked, every service alike, for
  start-up ordering, health checks, host ports, dev-only overridable secrets, and topics
  the same as the KafkaTopic resources;
* the Dockerfiles cannot be built here, so they get a textual sanity check.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import importlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from devstack import deploy
from devstack.stack import discover_services

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
COMPOSE_FILE = REPO / "docker-compose.yml"
SERVICES_DIR = REPO / "services"

# Schemas bundled by kubernetes-validate (no download). 1.30 is the oldest minor release we
# deploy to; 1.34 a recent one. An object must be valid for both.
K8S_VERSIONS = ("1.30.0", "1.34.0")

OVERLAYS = ("dev", "prod")
NAMESPACE = "wentang"
# Every service under services/, as devstack discovers them: each is checked alike.
SERVICES = [spec.name for spec in discover_services(REPO)]
IMAGE_TAGS = {"dev": "dev", "prod": "0.1.0"}
REPLICAS = {"dev": 1, "prod": 3}

# Operator custom resources: rendered, checked structurally, but not schema-validated.
CRD_KINDS = frozenset(
    {
        ("kafka.strimzi.io/v1", "Kafka"),
        ("kafka.strimzi.io/v1", "KafkaNodePool"),
        ("kafka.strimzi.io/v1", "KafkaTopic"),
        ("kafka.strimzi.io/v1", "KafkaUser"),
        ("postgresql.cnpg.io/v1", "Cluster"),
    }
)
BUILTIN_KINDS = {
    "dev": frozenset(
        {"Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment", "PodDisruptionBudget"}
    ),
    "prod": frozenset(
        {
            "Namespace",
            "ServiceAccount",
            "ConfigMap",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
        }
    ),
}

REGISTRATION_TOPICS = {"registration.events", "registration.events.dlq"}
# Secrets a pod may read (always through env[].valueFrom.secretKeyRef): the application's,
# CloudNativePG's for the database owner, the User Operator's for the KafkaUser.
ALLOWED_SECRETS = {
    name for svc in SERVICES for name in (f"{svc}-secrets", f"{svc}-db-app", svc)
}  # its application Secret, its database's (CloudNativePG), its KafkaUser's (Strimzi)


def secret_env(service: str) -> dict[str, tuple[str, str]]:
    """The variables a service's Deployment takes from Secrets: (Secret, key) each."""
    prefix = service.upper().replace("-", "_")
    return {
        f"{prefix}_JWT_SECRET": (f"{service}-secrets", "jwt-secret"),
        f"{prefix}_PII_KEY": (f"{service}-secrets", "pii-key"),
        f"{prefix}_PII_HASH_KEY": (f"{service}-secrets", "pii-hash-key"),
        "DB_USER": (f"{service}-db-app", "username"),
        "DB_PASSWORD": (f"{service}-db-app", "password"),
        f"{prefix}_KAFKA_SASL_PASSWORD": (service, "password"),
    }


# The one Secret a pod may mount: the Kafka cluster CA's public certificate (Strimzi's
# <cluster>-cluster-ca-cert), only its key ca.crt.
CA_SECRET_KEY = "ca.crt"

# Principals (KafkaUser names) allowed to READ each restricted topic; any other reader
# fails the tests. Granting an entitled agency access means adding it here, reviewed.
RESTRICTED_READERS: dict[str, frozenset[str]] = {
    "registration.persons.restricted": frozenset(),
    "inspection.findings.restricted": frozenset({"registration"}),
    "inspection.findings.restricted.dlq": frozenset(),
    # Notices with their recipients' details, for outreach (not built yet: no reader).
    "penalties.notices.restricted": frozenset(),
    "feeds.access-control": frozenset({"registration"}),
    "feeds.access-control.dlq": frozenset(),
}
# Principals allowed to WRITE each restricted topic.
RESTRICTED_WRITERS: dict[str, frozenset[str]] = {
    "registration.persons.restricted": frozenset({"registration"}),
    "inspection.findings.restricted": frozenset({"inspection"}),
    "inspection.findings.restricted.dlq": frozenset({"registration"}),
    "penalties.notices.restricted": frozenset({"penalties"}),
    "feeds.access-control": frozenset({"access-control-gateway"}),
    "feeds.access-control.dlq": frozenset({"registration"}),
}
SECRETISH = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|(^|_)KEY($|_)|CREDENTIAL", re.I)


# ---------------------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------------------


def _kustomize_cmd() -> list[str]:
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    pytest.fail("neither kubectl nor kustomize is on PATH: both render deploy/k8s offline")


@functools.cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [*_kustomize_cmd(), str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kustomize {overlay} failed:\n{result.stderr}"
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    assert docs, f"overlay {overlay} rendered nothing"
    return docs


def objects(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in render(overlay) if d["kind"] == kind]


def one(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in objects(overlay, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{overlay}: expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_containers(deployment: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = deployment["spec"]["template"]["spec"]
    for c in spec.get("initContainers", []):
        yield "init", c
    for c in spec["containers"]:
        yield "main", c


def configmap_data(overlay: str, ref_name: str) -> dict[str, str]:
    return dict(one(overlay, "ConfigMap", ref_name)["data"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_validates_against_kubernetes_schemas(overlay: str) -> None:
    validated: set[str] = set()
    skipped: set[tuple[str, str]] = set()
    for doc in render(overlay):
        key = (doc["apiVersion"], doc["kind"])
        if key in CRD_KINDS:
            skipped.add(key)
            continue
        for version in K8S_VERSIONS:
            # Raises ValidationError on a bad or unknown field, SchemaNotFoundError on a
            # kind/apiVersion that this Kubernetes version does not serve.
            kubernetes_validate.validate(doc, version, strict=True)
        validated.add(doc["kind"])
    assert skipped == CRD_KINDS, "only the operator CRD kinds may skip schema validation"
    assert validated == BUILTIN_KINDS[overlay]


def test_strict_validation_rejects_unknown_fields() -> None:
    """Guards the guard: a misspelt field must fail, not pass silently."""
    deployment = copy.deepcopy(one("dev", "Deployment", "registration"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProb"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_in_namespace_and_no_secret_committed(overlay: str) -> None:
    for doc in render(overlay):
        assert doc["kind"] != "Secret", "Secrets are created out of band, never rendered"
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"].get("namespace") == NAMESPACE, doc["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_deployments_probes_resources_security(overlay: str) -> None:
    deployments = objects(overlay, "Deployment")
    assert deployments
    for dep in deployments:
        name = dep["metadata"]["name"]
        pod = dep["spec"]["template"]["spec"]
        for role, c in pod_containers(dep):
            where = f"{overlay} {name}/{c['name']}"
            res = c.get("resources", {})
            assert {"cpu", "memory"} <= set(res.get("requests", {})), f"{where}: requests"
            assert {"cpu", "memory"} <= set(res.get("limits", {})), f"{where}: limits"
            sc = c.get("securityContext", {})
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: writable /tmp"
            if role == "main":
                for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                    assert probe in c, f"{where}: {probe}"
                assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
                assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
                assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        assert "emptyDir" in volumes["tmp"]
        psc = pod["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        sa = one(overlay, "ServiceAccount", pod["serviceAccountName"])
        assert sa["automountServiceAccountToken"] is False


def cluster_ca_secret(overlay: str) -> str:
    (kafka,) = objects(overlay, "Kafka")
    return f"{kafka['metadata']['name']}-cluster-ca-cert"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_only_through_secret_key_ref(overlay: str) -> None:
    for dep in objects(overlay, "Deployment"):
        pod = dep["spec"]["template"]["spec"]
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                # Only the cluster CA's public certificate, nothing else of that Secret.
                assert volume["secret"]["secretName"] == cluster_ca_secret(overlay), volume
                assert [i["key"] for i in volume["secret"]["items"]] == [CA_SECRET_KEY]
            for source in volume.get("projected", {}).get("sources", []):
                assert "secret" not in source, "no projected Secret volumes"
        for _, c in pod_containers(dep):
            for source in c.get("envFrom", []):
                assert "secretRef" not in source, "no envFrom secretRef: secretKeyRef only"
                assert "configMapRef" in source
            defined = set()
            for ref in c.get("envFrom", []):
                defined |= set(configmap_data(overlay, ref["configMapRef"]["name"]))
            for env in c.get("env", []):
                name = env["name"]
                value_from = env.get("valueFrom", {})
                if "secretKeyRef" in value_from:
                    ref = value_from["secretKeyRef"]
                    assert ref["name"] in ALLOWED_SECRETS, ref
                    assert not ref.get("optional", False), f"{name}: a missing secret must fail"
                elif "value" in env:
                    assert not SECRETISH.search(name), f"{name} looks secret but is literal"
                    # $(VAR) only expands variables defined before it.
                    for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", env["value"]):
                        assert var in defined, f"{name} uses $({var}) before it is defined"
                defined.add(name)
            env_by_name = {e["name"]: e for e in c.get("env", [])}
            for name, (secret, key) in secret_env(dep["metadata"]["name"]).items():
                ref = env_by_name[name]["valueFrom"]["secretKeyRef"]
                assert (ref["name"], ref["key"]) == (secret, key)
    for cm in objects(overlay, "ConfigMap"):
        leaked = [k for k in cm.get("data", {}) if SECRETISH.search(k)]
        assert not leaked, f"secret-looking keys in ConfigMap {cm['metadata']['name']}: {leaked}"


def test_the_generated_manifests_are_what_the_service_declarations_give() -> None:
    """base/<service>/, its topics, KafkaUser and database, its compose file and the root
    docker-compose.yml: ``python -m devstack.deploy``."""
    assert deploy.check(REPO) == []


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workload_contract(overlay: str, service: str) -> None:
    dep = one(overlay, "Deployment", service)
    pod = dep["spec"]["template"]
    spec = pod["spec"]
    assert dep["spec"]["replicas"] == REPLICAS[overlay]

    (init,) = spec["initContainers"]
    (main,) = spec["containers"]
    assert init["args"] == ["migrate"]
    assert main["args"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    for c in (init, main):
        assert c["image"] == f"wentang/{service}:{IMAGE_TAGS[overlay]}"
        assert "command" not in c, f"the image's ENTRYPOINT (python -m {service}) is kept"
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert ports == {"http": 8000}

    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == ports["http"]

    svc = one(overlay, "Service", service)
    (svc_port,) = svc["spec"]["ports"]
    assert (svc_port["name"], svc_port["port"], svc_port["targetPort"]) == ("http", 80, "http")
    labels = pod["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    pdb = one(overlay, "PodDisruptionBudget", service)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()

    hpas = [
        h
        for h in objects(overlay, "HorizontalPodAutoscaler")
        if h["spec"]["scaleTargetRef"]["name"] == service
    ]
    if overlay == "prod":
        (hpa,) = hpas
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": service,
        }
        assert hpa["spec"]["minReplicas"] == dep["spec"]["replicas"]
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # prod limits above dev limits
        dev_main = one("dev", "Deployment", service)["spec"]["template"]["spec"]["containers"][0]
        assert _mem_mi(main["resources"]["limits"]["memory"]) > _mem_mi(
            dev_main["resources"]["limits"]["memory"]
        )
    else:
        assert hpas == []


def _mem_mi(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    raise AssertionError(f"unexpected memory quantity {quantity}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_name_no_registry_host(overlay: str) -> None:
    for dep in objects(overlay, "Deployment"):
        for _, c in pod_containers(dep):
            first = c["image"].split("/")[0]
            assert "." not in first and ":" not in first and first != "localhost", (
                "image names carry no registry host; the cluster's mirror configuration "
                "or a kustomize images: newName supplies it"
            )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_infra_wiring_matches_service_config(overlay: str) -> None:
    """The names the service connects to are the names the operators create."""
    (kafka,) = objects(overlay, "Kafka")
    cluster = kafka["metadata"]["name"]
    for kind in ("KafkaNodePool", "KafkaTopic"):
        for doc in objects(overlay, kind):
            assert doc["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    pools = objects(overlay, "KafkaNodePool")
    assert {r for p in pools for r in p["spec"]["roles"]} == {"controller", "broker"}
    topics = {
        t["spec"].get("topicName", t["metadata"]["name"]) for t in objects(overlay, "KafkaTopic")
    }
    assert topics >= REGISTRATION_TOPICS
    broker_count = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    for topic in objects(overlay, "KafkaTopic"):
        assert topic["spec"]["replicas"] <= broker_count
        assert int(topic["spec"]["config"]["min.insync.replicas"]) <= topic["spec"]["replicas"]

    dep = one(overlay, "Deployment", "registration")
    (main,) = dep["spec"]["template"]["spec"]["containers"]
    config = configmap_data(overlay, main["envFrom"][0]["configMapRef"]["name"])
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    assert config["REGISTRATION_KAFKA_BOOTSTRAP_SERVERS"] == (
        f"{cluster}-kafka-bootstrap:{listener['port']}"
    )
    assert config["REGISTRATION_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["REGISTRATION_KAFKA_IDEMPOTENT_PRODUCER"] == "true"

    pg = one(overlay, "Cluster", "registration-db")
    initdb = pg["spec"]["bootstrap"]["initdb"]
    assert config["DB_HOST"] == f"{pg['metadata']['name']}-rw"
    assert config["DB_NAME"] == initdb["database"]
    env = {e["name"]: e for e in main["env"]}
    assert env["DB_USER"]["valueFrom"]["secretKeyRef"]["name"] == f"{pg['metadata']['name']}-app"
    assert env["REGISTRATION_DATABASE_URL"]["value"].startswith("postgresql+asyncpg://")

    expected_env = "dev" if overlay == "dev" else "prod"
    assert config["REGISTRATION_ENVIRONMENT"] == expected_env


# ---------------------------------------------------------------------------------------
# Kafka authentication and ACLs
# ---------------------------------------------------------------------------------------

ACL_RESOURCE_TYPES = {"topic", "group", "cluster", "transactionalId"}
ACL_OPERATIONS = {
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
}
SASL_PROTOCOLS = {"SASL_SSL", "SASL_PLAINTEXT"}
# Strimzi's listener authentication type -> the client's SASL mechanism.
LISTENER_MECHANISMS = {"scram-sha-512": "SCRAM-SHA-512"}


def kafka_users(overlay: str) -> dict[str, dict[str, Any]]:
    return {u["metadata"]["name"]: u for u in objects(overlay, "KafkaUser")}


def topic_names(overlay: str, *, label: str | None = None) -> set[str]:
    return {
        t["spec"].get("topicName", t["metadata"]["name"])
        for t in objects(overlay, "KafkaTopic")
        if label is None or t["metadata"].get("labels", {}).get("wentang/data-class") == label
    }


def _matches(resource: dict[str, Any], kind: str, name: str) -> bool:
    if resource["type"] != kind:
        return False
    pattern = resource.get("patternType", "literal")
    if pattern == "prefix":
        return name.startswith(resource["name"])
    return resource["name"] in (name, "*")


def principals_allowed(overlay: str, kind: str, name: str, operation: str) -> set[str]:
    """KafkaUsers with an allow rule for ``operation`` (or All) on the resource."""
    allowed = set()
    for user, doc in kafka_users(overlay).items():
        for rule in doc["spec"]["authorization"]["acls"]:
            if rule.get("type", "allow") != "allow":
                continue
            if {operation, "All"} & set(rule["operations"]) and _matches(
                rule["resource"], kind, name
            ):
                allowed.add(user)
    return allowed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_listeners_authenticate_and_the_cluster_authorizes(overlay: str) -> None:
    (kafka,) = objects(overlay, "Kafka")
    spec = kafka["spec"]["kafka"]
    assert spec["listeners"], "at least one listener"
    for listener in spec["listeners"]:
        auth = listener.get("authentication", {}).get("type")
        assert auth in LISTENER_MECHANISMS, f"listener {listener['name']}: no authentication"
    assert spec["authorization"]["type"] == "simple"
    # Only the operator's own users are super users (Strimzi adds them itself).
    assert not spec["authorization"].get("superUsers")
    assert "userOperator" in kafka["spec"]["entityOperator"], "KafkaUsers need it"
    assert "allow.everyone.if.no.acl.found" not in spec.get("config", {})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_users_are_well_formed(overlay: str) -> None:
    (kafka,) = objects(overlay, "Kafka")
    cluster = kafka["metadata"]["name"]
    topics = topic_names(overlay)
    users = kafka_users(overlay)
    assert {"registration", "public-subscriber-example"} <= set(users)
    for name, user in users.items():
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == cluster
        assert "userName" not in user["spec"], "the principal is the KafkaUser's name"
        assert user["spec"]["authentication"]["type"] == "scram-sha-512", name
        authorization = user["spec"]["authorization"]
        assert authorization["type"] == "simple"
        assert authorization["acls"], f"{name}: no ACLs"
        for rule in authorization["acls"]:
            resource = rule["resource"]
            assert set(rule) <= {"type", "resource", "host", "operations"}, rule
            assert rule.get("type", "allow") in ("allow", "deny")
            assert resource["type"] in ACL_RESOURCE_TYPES, rule
            assert resource.get("patternType", "literal") in ("literal", "prefix"), rule
            assert set(rule["operations"]) <= ACL_OPERATIONS, rule
            assert "All" not in rule["operations"], f"{name}: name the operations"
            assert resource.get("name") != "*", f"{name}: no wildcard resources"
            if resource["type"] == "topic":
                if resource.get("patternType", "literal") == "literal":
                    assert resource["name"] in topics, f"{name}: unknown topic {resource}"
                else:
                    assert any(t.startswith(resource["name"]) for t in topics), resource
            if resource["type"] == "group":
                # A principal's consumer groups live under its own name.
                assert resource["name"].startswith(f"{name}."), rule
                assert resource.get("patternType") == "prefix", rule


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_restricted_topics_are_read_only_by_the_listed_principals(overlay: str) -> None:
    restricted = topic_names(overlay, label="restricted")
    assert restricted == set(RESTRICTED_READERS) == set(RESTRICTED_WRITERS)
    assert "registration.persons.restricted" in restricted
    for topic in sorted(restricted):
        readers = principals_allowed(overlay, "topic", topic, "Read")
        assert readers == RESTRICTED_READERS[topic], f"{topic} read by {readers}"
        writers = principals_allowed(overlay, "topic", topic, "Write")
        assert writers == RESTRICTED_WRITERS[topic], f"{topic} written by {writers}"
    # The public subscriber reads the public topic and nothing restricted.
    assert "public-subscriber-example" in principals_allowed(
        overlay, "topic", "registration.events", "Read"
    )
    # Nobody but registration may join registration's consumer groups.
    assert principals_allowed(overlay, "group", "registration.findings", "Read") == {"registration"}


def kafka_usage(service: str) -> tuple[set[str], set[str], set[str]]:
    """(topics it writes, topics it reads, consumer group ids) of a service's code."""
    main = importlib.import_module(f"{service}.main")
    usage = main.service.kafka_usage()
    # Dead letters: the consumer writes <topic>.dlq (common.inbox).
    return set(usage.published) | set(usage.dead_letters), set(usage.consumed), set(usage.groups)


def test_registrations_kafka_usage_is_what_it_is_known_to_do() -> None:
    published, consumed, groups = kafka_usage("registration")
    assert {"registration.events", "registration.persons.restricted"} <= published
    assert "inspection.findings.restricted" in consumed and all(groups)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_acls_are_exactly_what_the_services_code_uses(overlay: str, service: str) -> None:
    published, consumed, groups = kafka_usage(service)
    rules = kafka_users(overlay)[service]["spec"]["authorization"]["acls"]
    granted: dict[tuple[str, str, str], set[str]] = {}
    for rule in rules:
        key = (
            rule["resource"]["type"],
            rule["resource"]["name"],
            rule["resource"].get("patternType", "literal"),
        )
        granted.setdefault(key, set()).update(rule["operations"])
    writes = {n for (t, n, _), ops in granted.items() if t == "topic" and "Write" in ops}
    reads = {n for (t, n, _), ops in granted.items() if t == "topic" and "Read" in ops}
    assert writes == published, f"Write on the topics {service} publishes to, no other"
    assert reads == consumed, f"Read on the topics {service} subscribes to, no other"
    topics = topic_names(overlay)
    assert published | consumed <= topics, "every topic it uses is declared"
    prefixes = [n for (t, n, p), ops in granted.items() if t == "group" and "Read" in ops]
    assert prefixes == [f"{service}."]
    assert all(g.startswith(f"{service}.") for g in groups), groups
    assert {t for t, _, _ in granted} == {"topic", "group"}, "no cluster rights"


def kafka_credential_problems(overlay: str, dep: dict[str, Any]) -> list[str]:
    """Why a Deployment's containers that talk to Kafka are not properly authenticated."""
    (kafka,) = objects(overlay, "Kafka")
    cluster = kafka["metadata"]["name"]
    listeners = {
        f"{cluster}-kafka-bootstrap:{listener['port']}": listener
        for listener in kafka["spec"]["kafka"]["listeners"]
    }
    users = kafka_users(overlay)
    pod = dep["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    problems: list[str] = []
    for _, c in pod_containers(dep):
        where = f"{dep['metadata']['name']}/{c['name']}"
        values: dict[str, str] = {}
        for ref in c.get("envFrom", []):
            values.update(configmap_data(overlay, ref["configMapRef"]["name"]))
        env = {e["name"]: e for e in c.get("env", [])}
        values.update({n: e["value"] for n, e in env.items() if "value" in e})
        for name in [n for n in {*values, *env} if n.endswith("KAFKA_BOOTSTRAP_SERVERS")]:
            prefix = name.removesuffix("KAFKA_BOOTSTRAP_SERVERS")
            listener = listeners.get(values.get(name, ""))
            if listener is None:
                problems.append(f"{where}: {name} is not a listener of {cluster}")
                continue
            protocol = values.get(prefix + "KAFKA_SECURITY_PROTOCOL")
            if protocol not in SASL_PROTOCOLS:
                problems.append(f"{where}: {prefix}KAFKA_SECURITY_PROTOCOL={protocol}")
            elif (protocol == "SASL_SSL") != bool(listener["tls"]):
                problems.append(f"{where}: {protocol} on a listener with tls={listener['tls']}")
            auth = listener["authentication"]["type"]
            if values.get(prefix + "KAFKA_SASL_MECHANISM") != LISTENER_MECHANISMS[auth]:
                problems.append(f"{where}: mechanism is not {LISTENER_MECHANISMS[auth]}")
            username = values.get(prefix + "KAFKA_SASL_USERNAME", "")
            if username not in users:
                problems.append(f"{where}: {prefix}KAFKA_SASL_USERNAME={username!r} no KafkaUser")
            password = env.get(prefix + "KAFKA_SASL_PASSWORD", {})
            ref = password.get("valueFrom", {}).get("secretKeyRef", {})
            if (ref.get("name"), ref.get("key")) != (username, "password"):
                problems.append(f"{where}: password not from the Secret of KafkaUser {username}")
            if protocol == "SASL_SSL":
                cafile = values.get(prefix + "KAFKA_SSL_CAFILE", "")
                mounts = {
                    m["mountPath"].rstrip("/") + "/" + item["path"]
                    for m in c.get("volumeMounts", [])
                    for item in volumes.get(m["name"], {}).get("secret", {}).get("items", [])
                    if volumes[m["name"]]["secret"]["secretName"] == f"{cluster}-cluster-ca-cert"
                    and item["key"] == CA_SECRET_KEY
                }
                if cafile not in mounts:
                    problems.append(f"{where}: CA file {cafile!r} is not the cluster CA")
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_that_talks_to_kafka_authenticates_from_a_secret(
    overlay: str,
) -> None:
    deployments = objects(overlay, "Deployment")
    assert deployments
    for dep in deployments:
        assert kafka_credential_problems(overlay, dep) == []
    # The registration Deployment is one of them.
    (main,) = one(overlay, "Deployment", "registration")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in main["env"]}
    assert "secretKeyRef" in env["REGISTRATION_KAFKA_SASL_PASSWORD"]["valueFrom"]


def test_kafka_credential_check_catches_a_literal_password() -> None:
    """Guards the guard: a password typed in, or a plaintext protocol, must fail."""
    dep = copy.deepcopy(one("prod", "Deployment", "registration"))
    (main,) = dep["spec"]["template"]["spec"]["containers"]
    main["env"] = [
        {"name": e["name"], "value": "hunter2"}
        if e["name"] == "REGISTRATION_KAFKA_SASL_PASSWORD"
        else e
        for e in main["env"]
    ]
    main["env"].append({"name": "REGISTRATION_KAFKA_SECURITY_PROTOCOL", "value": "PLAINTEXT"})
    problems = kafka_credential_problems("prod", dep)
    assert any("password not from the Secret" in p for p in problems), problems
    assert any("KAFKA_SECURITY_PROTOCOL=PLAINTEXT" in p for p in problems), problems


# ---------------------------------------------------------------------------------------
# docker compose
# ---------------------------------------------------------------------------------------

COMPOSE_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
OVERRIDABLE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:-[^}]+\}$")
INFRASTRUCTURE = {"kafka", "kafka-topics", "postgres"}
SERVICE_SPECS = {spec.name: spec for spec in discover_services(REPO)}


def compose_file(service: str) -> Path:
    return REPO / "deploy" / "compose" / "services" / f"{service}.yml"


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


@functools.cache
def compose() -> dict[str, Any]:
    """The compose model as ``docker compose`` loads it: the root file (anchors and merge
    keys resolved) with the services and volumes of each file it includes."""
    data = _load_yaml(COMPOSE_FILE)
    services = dict(data["services"])
    volumes = dict(data.get("volumes") or {})
    for entry in data.get("include", []):
        # Relative paths (build context, bind mounts) and .env are the repository root's.
        assert entry["project_directory"] == ".", entry
        included = _load_yaml(REPO / entry["path"])
        for name, service in included["services"].items():
            assert name not in services, f"{entry['path']}: {name} is defined twice"
            services[name] = service
        volumes.update(included.get("volumes") or {})
    return {**data, "services": services, "volumes": volumes}


def compose_service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose()["services"][name]
    return service


def host_port(service: dict[str, Any]) -> int:
    """The default host port of a ``127.0.0.1:${VAR:-port}:8000`` mapping."""
    (mapping,) = service["ports"]
    match = re.fullmatch(r"127\.0\.0\.1:\$\{[A-Z][A-Z0-9_]*:-(\d+)\}:\d+", mapping)
    assert match, f"{mapping}: published on 127.0.0.1 only, host port overridable"
    return int(match.group(1))


def test_compose_includes_one_generated_file_per_service() -> None:
    includes = [entry["path"] for entry in _load_yaml(COMPOSE_FILE)["include"]]
    assert includes == [f"deploy/compose/services/{name}.yml" for name in SERVICES]
    assert set(compose()["services"]) == INFRASTRUCTURE | {
        n for name in SERVICES for n in (name, f"{name}-migrate")
    }
    for path in (COMPOSE_FILE, *map(compose_file, SERVICES)):
        assert path.read_text().startswith("# Generated by `python -m devstack.deploy write`")


def test_compose_every_service_has_healthcheck_or_conditions() -> None:
    services = compose()["services"]
    assert {"kafka", "postgres", "registration", "registration-migrate"} <= set(services)
    for name, service in services.items():
        healthcheck = service.get("healthcheck", {})
        has_check = bool(healthcheck.get("test")) and not healthcheck.get("disable", False)
        depends = service.get("depends_on")
        if depends is not None:
            assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
            for dep, spec in depends.items():
                assert dep in services, f"{name} depends on unknown {dep}"
                assert spec.get("condition") in COMPOSE_CONDITIONS, f"{name} -> {dep}"
        assert has_check or depends, f"{name}: neither a healthcheck nor depends_on conditions"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_service_startup_order_and_ports(service: str) -> None:
    server = compose_service(service)
    assert {k: v["condition"] for k, v in server["depends_on"].items()} == {
        "kafka": "service_healthy",
        "kafka-topics": "service_completed_successfully",
        "postgres": "service_healthy",
        f"{service}-migrate": "service_completed_successfully",
    }
    # The host port follows the service's fixed devstack port.
    assert host_port(server) == SERVICE_SPECS[service].port + deploy.COMPOSE_HOST_PORT_SHIFT
    assert server["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert "/healthz" in server["healthcheck"]["test"][-1]
    assert server["image"] == f"wentang/{service}:${{WENTANG_TAG:-dev}}"

    migrate = compose_service(f"{service}-migrate")
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["healthcheck"] == {"disable": True}
    assert {k: v["condition"] for k, v in migrate["depends_on"].items()} == {
        "postgres": "service_healthy"
    }
    assert migrate["image"] == server["image"]
    assert migrate["environment"] == server["environment"]
    assert migrate["build"] == server["build"]

    build = server["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == f"services/{service}/Dockerfile"
    assert (REPO / build["dockerfile"]).is_file()
    assert build["args"]["SERVICE"] == service


def test_compose_host_ports() -> None:
    """Registration keeps 8001; no two services (nor the infrastructure) share a port."""
    assert host_port(compose_service("registration")) == 8001
    ports = [host_port(compose_service(name)) for name in SERVICES]
    assert len(set(ports)) == len(ports)
    assert not {29092, 5433} & set(ports)


@pytest.mark.parametrize("service", SERVICES)
def test_compose_settings_and_dev_only_secrets(service: str) -> None:
    prefix = SERVICE_SPECS[service].env_prefix
    env = compose_service(service)["environment"]
    required = {
        f"{prefix}_{setting}"
        for setting in (
            "ENVIRONMENT",
            "DATABASE_URL",
            "KAFKA_BOOTSTRAP_SERVERS",
            "KAFKA_IDEMPOTENT_PRODUCER",
            "JWT_SECRET",
            "PII_KEY",
            "PII_HASH_KEY",
            "LOG_LEVEL",
            "RUN_RELAY",
            "RUN_CONSUMERS",
        )
    }
    assert required <= set(env)
    assert all(name.startswith(f"{prefix}_") for name in env), "only its own settings"
    assert env[f"{prefix}_ENVIRONMENT"] == "dev"
    assert env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env[f"{prefix}_KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    url = env[f"{prefix}_DATABASE_URL"]
    assert url.startswith(f"postgresql+asyncpg://{service}:")
    assert url.endswith(f"@postgres:5432/{service}")
    for name in env:
        if SECRETISH.search(name):
            assert OVERRIDABLE.match(env[name]), f"{name} must be ${{{name}:-dev default}}"
    # The dev PII key default must be a usable Fernet key.
    from cryptography.fernet import Fernet

    Fernet(env[f"{prefix}_PII_KEY"].split(":-", 1)[1].rstrip("}").encode())

    # postgres-init.sh creates the database and role <service> with <PREFIX>_DB_PASSWORD.
    pg_env = compose_service("postgres")["environment"]
    db_password = pg_env[f"{prefix}_DB_PASSWORD"]
    assert db_password.startswith(f"${{{prefix}_DB_PASSWORD:-")
    assert OVERRIDABLE.match(db_password)
    assert f"{service}:{db_password}@" in url
    assert service in re.split(r"[\s,]+", pg_env["SERVICE_DATABASES"])


def test_compose_postgres_has_a_database_per_service_and_no_other() -> None:
    pg_env = compose_service("postgres")["environment"]
    assert re.split(r"[\s,]+", pg_env["SERVICE_DATABASES"]) == SERVICES
    passwords = {k for k in pg_env if k.endswith("_DB_PASSWORD")}
    assert passwords == {f"{SERVICE_SPECS[name].env_prefix}_DB_PASSWORD" for name in SERVICES}


def test_compose_infrastructure() -> None:
    kafka = compose_service("kafka")
    assert kafka["image"] == "${KAFKA_IMAGE:-apache/kafka:4.1.1}"  # official by default
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert str(env["KAFKA_NODE_ID"]) == "1"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert str(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == "1"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]

    postgres = compose_service("postgres")
    assert postgres["image"] == "${POSTGRES_IMAGE:-postgres:15}"
    init_mounts = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init_mounts
    for mount in init_mounts:
        host_path = mount.split(":")[0]
        assert (REPO / host_path).is_file(), host_path

    for name, service in compose()["services"].items():
        if "image" in service and "build" not in service:
            assert not service["image"].endswith(":latest") and ":" in service["image"], name


def test_compose_topics_match_kubernetes_topics() -> None:
    """kafka-topics creates what the KafkaTopic resources declare, with their partitions."""
    topics_env = compose_service("kafka-topics")["environment"]["KAFKA_TOPICS"]
    specs = [spec.rsplit(":", 1) for spec in topics_env.split()]
    compose_topics = {name: int(partitions) for name, partitions in specs}
    assert len(compose_topics) == len(specs), "each topic once"
    k8s_topics = {
        t["spec"]["topicName"]: t["spec"]["partitions"] for t in objects("prod", "KafkaTopic")
    }
    assert compose_topics == k8s_topics
    assert set(compose_topics) >= REGISTRATION_TOPICS


# ---------------------------------------------------------------------------------------
# Dockerfiles (cannot be built here: no Docker engine)
# ---------------------------------------------------------------------------------------


def service_dirs() -> list[Path]:
    return sorted(p.parent for p in SERVICES_DIR.glob("*/pyproject.toml"))


def test_every_service_has_a_dockerfile() -> None:
    dirs = service_dirs()
    assert any(d.name == "registration" for d in dirs)
    for d in dirs:
        assert (d / "Dockerfile").is_file(), f"{d.name} has no Dockerfile"


@pytest.mark.parametrize("service", [d.name for d in service_dirs()])
def test_dockerfile_sanity(service: str) -> None:
    text = (SERVICES_DIR / service / "Dockerfile").read_text()
    lines = _dockerfile_instructions(text)

    assert "uv sync --frozen" in text and "--package" in text and "--no-dev" in text
    # The runtime stage gets the venv and the workspace tree it points into, same paths.
    assert "COPY --from=builder /opt/venv /opt/venv" in lines
    assert "COPY --from=builder /app /app" in lines
    # ARG defaults (re-declarations inside a stage carry none).
    defaults = dict(
        line.split()[1].split("=", 1) for line in lines if line.startswith("ARG ") and "=" in line
    )
    assert defaults.get("SERVICE") == service, "ARG SERVICE default = directory name"
    assert defaults.get("PYTHON_IMAGE", "").startswith("python:3.11-slim")
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) >= 2, "multi-stage build"
    assert all(line.startswith("FROM ${PYTHON_IMAGE}") for line in froms)

    entrypoint = [line for line in lines if line.startswith("ENTRYPOINT ")]
    assert entrypoint == [f'ENTRYPOINT ["python", "-m", "{service}"]']
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]' in lines
    assert "EXPOSE 8000" in lines
    user = [line for line in lines if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in {"0", "root"}
    healthcheck = [line for line in lines if line.startswith("HEALTHCHECK ")]
    assert healthcheck and "/healthz" in healthcheck[0] and "urllib" in healthcheck[0]

    # Every COPY source from the build context exists (with ${SERVICE} substituted).
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _dest = line.split()[1:]
            for source in sources:
                path = source.replace("${SERVICE}", service).rstrip("/")
                assert (REPO / path).exists(), f"COPY source {path} missing"
                assert not _dockerignored(path), f"COPY source {path} is in .dockerignore"


def _dockerfile_instructions(text: str) -> list[str]:
    """Instructions with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(re.sub(r"\s+", " ", line))
    return out


def _dockerignored(path: str) -> bool:
    patterns = [
        p.strip()
        for p in (REPO / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    ignored = False
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        if any(
            fnmatch.fnmatch(c, pat) or fnmatch.fnmatch(c, pat.removeprefix("**/"))
            for c in candidates
        ):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_context_small() -> None:
    for path in (".venv", ".git", "tests", "deploy/local", "libs/common/tests"):
        assert _dockerignored(path), f"{path} should not be in the build context"
    needed = ["pyproject.toml", "uv.lock", "libs/common/src"]
    scratch = {"tests", "Dockerfile", "__pycache__", "build", "dist"}
    for service in service_dirs():
        # src/ and whatever sits beside it at run time (e.g. migrations/).
        needed += [
            str(p.relative_to(REPO))
            for p in service.iterdir()
            if p.name not in scratch
            and not p.name.startswith(".")
            and not p.name.endswith(".egg-info")
        ]
    assert "services/registration/migrations" in needed
    for path in needed:
        assert not _dockerignored(path), f"{path} is needed by the image build"
