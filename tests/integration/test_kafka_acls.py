"""The Kafka ACLs of deploy/k8s, enforced by a real broker with SASL/SCRAM-SHA-512.

One Apache Kafka (``devstack.kafka.KafkaBroker(scram_users=...)``: SCRAM-SHA-512 only,
``StandardAuthorizer``, nothing allowed without an ACL) for the module. Its principals
are the ``KafkaUser`` resources of ``deploy/k8s/infra/kafka/*.yaml``, and their ACLs
are those resources' rules, translated one for one: what is proven here is what the
manifests grant. The super user ``admin`` stands in for the inspection service, which has
no KafkaUser yet.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)

from common.envelope import Envelope
from devstack.kafka import Acl, KafkaBroker, create_acls, create_topics
from registration.events import PERSONS_TOPIC, TOPIC
from registration.upstream.inspection import FINDINGS_TOPIC, OccupantFound
from tests.integration.services import (
    REPO,
    ServiceProcess,
    identity_number,
    register_grid,
    registration_env,
    running,
    token,
)

pytestmark = pytest.mark.integration

KAFKA_DIR = REPO / "deploy" / "k8s" / "infra" / "kafka"
SUBSCRIBER = "public-subscriber-example"


def _manifests(pattern: str, kind: str) -> list[dict[str, Any]]:
    """The objects of ``kind`` in the files of KAFKA_DIR matching ``pattern``."""
    return [
        d
        for path in sorted(KAFKA_DIR.glob(pattern))
        for d in yaml.safe_load_all(path.read_text())
        if d and d["kind"] == kind
    ]


def manifest_acls() -> dict[str, list[Acl]]:
    """KafkaUser name -> its rules as Kafka ACL bindings (one per operation)."""
    users: dict[str, list[Acl]] = {}
    for user in _manifests("*.yaml", "KafkaUser"):
        name = user["metadata"]["name"]
        acls = users.setdefault(name, [])
        for rule in user["spec"]["authorization"]["acls"]:
            resource = rule["resource"]
            for operation in rule["operations"]:
                acls.append(
                    Acl(
                        principal=f"User:{name}",
                        resource_type=resource["type"],
                        name=resource.get("name", "kafka-cluster"),
                        operation=operation,
                        pattern_type=resource.get("patternType", "literal"),
                        permission=rule.get("type", "allow"),
                        host=rule.get("host", "*"),
                    )
                )
    return users


def manifest_topics() -> dict[str, bool]:
    """Topic name -> restricted?"""
    return {
        t["spec"]["topicName"]: t["metadata"]["labels"].get("wentang/data-class") == "restricted"
        for t in _manifests("topics-*.yaml", "KafkaTopic")
    }


@dataclass
class Secured:
    broker: KafkaBroker
    users: list[str]

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def as_user(self, user: str) -> dict[str, Any]:
        return self.broker.client_options(user)


@pytest.fixture(scope="module")
def secured() -> Iterator[Secured]:
    acls = manifest_acls()
    passwords = {user: secrets.token_urlsafe(18) for user in acls}
    with KafkaBroker(scram_users=passwords) as broker:
        admin = broker.client_options()
        create_topics(broker.bootstrap, manifest_topics(), partitions=1, client_options=admin)
        create_acls(broker.bootstrap, [a for rules in acls.values() for a in rules], admin)
        yield Secured(broker, sorted(acls))


# --------------------------------------------------------------------------- clients
async def send(
    bootstrap: str, options: dict[str, Any], topic: str, key: bytes, *, idempotent: bool = True
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotent,
        request_timeout_ms=10000,
        **options,
    )
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=key)
    finally:
        await producer.stop()


async def read(
    bootstrap: str,
    options: dict[str, Any],
    topic: str,
    *,
    group: str | None,
    key: bytes | None = None,
    expect: int = 1,
    wait_s: float = 20.0,
) -> list[Any]:
    """Records of ``topic`` from the beginning (those with ``key``), until ``expect``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=10000,
        **options,
    )
    found: list[Any] = []
    try:
        await consumer.start()
        deadline = time.monotonic() + wait_s
        while len(found) < expect and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            found += [r for rs in batches.values() for r in rs if key in (None, r.key)]
    finally:
        await consumer.stop()
    return found


# --------------------------------------------------------------------------- proofs
def test_registration_writes_the_restricted_topic_the_public_subscriber_cannot_read_it(
    secured: Secured,
) -> None:
    key = uuid.uuid4().hex.encode()
    registration = secured.as_user("registration")
    subscriber = secured.as_user(SUBSCRIBER)
    for topic in (PERSONS_TOPIC, TOPIC):
        asyncio.run(send(secured.bootstrap, registration, topic, key))

    group = f"{SUBSCRIBER}.it-{uuid.uuid4().hex[:6]}"
    public = asyncio.run(read(secured.bootstrap, subscriber, TOPIC, group=group, key=key))
    assert [r.key for r in public] == [key]

    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(read(secured.bootstrap, subscriber, PERSONS_TOPIC, group=group, key=key))
    # The record is there: the super user reads it.
    (record,) = asyncio.run(
        read(secured.bootstrap, secured.as_user("admin"), PERSONS_TOPIC, group=None, key=key)
    )
    assert record.key == key


def test_no_principal_but_registration_reads_a_restricted_topic(secured: Secured) -> None:
    restricted = sorted(t for t, r in manifest_topics().items() if r)
    assert PERSONS_TOPIC in restricted and FINDINGS_TOPIC in restricted

    async def refused(user: str, topic: str) -> bool:
        try:
            await read(secured.bootstrap, secured.as_user(user), topic, group=None, wait_s=0.5)
        except TopicAuthorizationFailedError:
            return True
        return False

    async def matrix() -> dict[tuple[str, str], bool]:
        pairs = [(u, t) for u in secured.users for t in restricted]
        results = await asyncio.gather(*(refused(u, t) for u, t in pairs))
        return dict(zip(pairs, results, strict=True))

    readable = sorted(
        pair for pair, was_refused in asyncio.run(matrix()).items() if not was_refused
    )
    assert readable == [
        ("registration", "feeds.access-control"),
        ("registration", FINDINGS_TOPIC),
    ]


def test_the_public_subscriber_cannot_write_or_join_registrations_groups(
    secured: Secured,
) -> None:
    subscriber = secured.as_user(SUBSCRIBER)
    # Not idempotent: an idempotent producer is refused earlier, at its producer id
    # (ClusterAuthorizationFailed: it may write to no topic at all).
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(send(secured.bootstrap, subscriber, TOPIC, b"forged", idempotent=False))
    with pytest.raises(GroupAuthorizationFailedError):
        asyncio.run(
            read(secured.bootstrap, subscriber, TOPIC, group="registration.figures", wait_s=3)
        )


@pytest.mark.parametrize(
    "how", ["wrong password", "unknown user", "registration's name, subscriber's password"]
)
def test_bad_credentials_are_refused(
    secured: Secured, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    options = secured.as_user("registration")
    if how == "wrong password":
        options["sasl_plain_password"] = "not-" + options["sasl_plain_password"]
    elif how == "unknown user":
        options["sasl_plain_username"] = "mallory"
    else:
        options["sasl_plain_password"] = secured.as_user(SUBSCRIBER)["sasl_plain_password"]
    with pytest.raises(KafkaConnectionError):  # aiokafka: "Unable to bootstrap from ..."
        asyncio.run(send(secured.bootstrap, options, TOPIC, b"k"))
    # ... because the broker refused the SCRAM exchange (logged by aiokafka).
    assert "SaslAuthenticationFailed" in caplog.text


def test_a_client_without_sasl_gets_nothing(secured: Secured) -> None:
    with pytest.raises(KafkaConnectionError):
        asyncio.run(read(secured.bootstrap, {}, TOPIC, group=None, wait_s=1))


def test_the_registration_service_authenticates_consumes_and_publishes_under_acls(
    secured: Secured, tmp_path: Path
) -> None:
    """The service process as principal ``registration`` (SASL settings, as in k8s): it
    consumes a finding from a restricted topic and publishes to both of its topics; the
    public subscriber sees the public events, the identity record is on the restricted
    topic only, and none of its consumers was refused anything."""
    password = secured.as_user("registration")["sasl_plain_password"]
    env = registration_env(secured.bootstrap, f"sqlite+aiosqlite:///{tmp_path}/registration.db")
    env |= {
        "REGISTRATION_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "REGISTRATION_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "REGISTRATION_KAFKA_SASL_USERNAME": "registration",
        "REGISTRATION_KAFKA_SASL_PASSWORD": password,
    }
    service = ServiceProcess("registration", env, tmp_path)
    service.migrate()
    subscriber = secured.as_user(SUBSCRIBER)
    admin = secured.as_user("admin")
    grid = f"IT-{uuid.uuid4().hex[:8]}"
    number = identity_number(random.randrange(500, 1000))
    with running(service):
        register_grid(service, grid)
        landlord = token("landlord", party_id="L-ACL")
        response = service.call(
            "POST",
            "/properties",
            landlord,
            json={
                "address": "Access Lane 1",
                "grid_id": grid,
                "landlord_id": "L-ACL",
                "rooms": [{"room_no": "101", "capacity": 2}],
            },
        )
        assert response.status_code == 201, response.text
        property_id = str(response.json()["property_id"])

        # inspection.OccupantFound on the restricted findings topic (admin stands in for
        # the inspection service, which has no KafkaUser yet).
        found = OccupantFound(
            finding_id=f"F-{uuid.uuid4().hex[:8]}",
            property_id=property_id,
            room_no="101",
            id_number=number,
            full_name="Wang Wu",
            phone="13812345678",
            found_at=datetime.now(UTC),
            officer_id="officer-acl",
        )
        envelope = Envelope(
            type=found.ce_type(), source="/services/inspection", subject=property_id
        )

        async def publish_finding() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=secured.bootstrap, **admin)
            try:
                await producer.start()
                await producer.send_and_wait(
                    FINDINGS_TOPIC,
                    found.to_json(),
                    key=property_id.encode(),
                    headers=envelope.headers(),
                )
            finally:
                await producer.stop()

        asyncio.run(publish_finding())

        group = f"{SUBSCRIBER}.it-{uuid.uuid4().hex[:6]}"
        by_property = asyncio.run(
            read(
                secured.bootstrap,
                subscriber,
                TOPIC,
                group=group,
                key=property_id.encode(),
                expect=3,
                wait_s=45,
            )
        )
        types = [dict(r.headers)["ce_type"].decode() for r in by_property]
        assert types == [
            "registration.PropertyRegistered.v1",
            "registration.ResidenceDeclared.v1",
            "registration.OccupantFindingSettled.v1",  # what it made of the finding
        ]
        person_ref = json.loads(by_property[1].value)["person_ref"]

        (identity,) = asyncio.run(
            read(secured.bootstrap, admin, PERSONS_TOPIC, group=None, key=person_ref.encode())
        )
        assert json.loads(identity.value)["id_number"] == number
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(read(secured.bootstrap, subscriber, PERSONS_TOPIC, group=group))
    log = service.tail(lines=100_000)
    for refusal in ("AuthorizationFailed", "not authorized", "SaslAuthentication", password):
        lines = [line for line in log.splitlines() if refusal in line]
        assert not lines, f"{refusal!r} in the service log:\n" + "\n".join(lines[:5])
