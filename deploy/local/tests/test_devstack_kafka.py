"""Apache Kafka from the Maven jars (the kafka_bootstrap fixture falls back to KafkaBroker)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from _devstack_helpers import group_roundtrip, unique
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from devstack.kafka import (
    SUPER_USER,
    Acl,
    KafkaBroker,
    KafkaStartError,
    cache_dir,
    create_acls,
    create_topics,
    resolve_classpath,
)

pytestmark = pytest.mark.integration


async def test_roundtrip_with_consumer_group(kafka_bootstrap: str) -> None:
    await group_roundtrip(kafka_bootstrap, unique("t-kafka"), unique("g"), idempotent=True)


async def test_create_topics_is_idempotent(kafka_bootstrap: str) -> None:
    names = [unique("a"), unique("b")]
    create_topics(kafka_bootstrap, names, partitions=3)
    create_topics(kafka_bootstrap, [*names, unique("c")], partitions=3)  # again: no error
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    assert sorted(len(t["partitions"]) for t in described) == [3, 3]


def test_resolve_classpath_is_cached() -> None:
    lib = resolve_classpath()
    started = time.monotonic()
    assert resolve_classpath() == lib
    assert time.monotonic() - started < 1.0
    assert (cache_dir() / ".complete").exists()
    assert any(lib.glob("kafka_2.13-4.1.1.jar"))
    assert (cache_dir() / "log4j2.properties").exists()


def test_broker_lifecycle() -> None:
    with KafkaBroker() as kafka:
        assert kafka.bootstrap.startswith("127.0.0.1:")
        tmpdir = kafka.tmpdir
        assert tmpdir is not None and (tmpdir / "server.properties").exists()
        props = (tmpdir / "server.properties").read_text()
        assert "controller.quorum.bootstrap.servers=" in props
        assert "controller.quorum.voters" not in props
        proc = kafka._proc
        assert proc is not None and proc.poll() is None
        assert kafka.startup_seconds is not None
        print(f"Kafka started in {kafka.startup_seconds:.1f}s")
    assert proc.poll() is not None
    assert not tmpdir.exists()


def test_start_failure_raises_with_log_and_cleans_up() -> None:
    broker = KafkaBroker(extra_properties={"node.id": "not-a-number"})
    with pytest.raises(KafkaStartError, match="not-a-number"):
        broker.start()
    assert broker.tmpdir is None and broker._proc is None


def test_a_cluster_id_starting_with_a_dash_still_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: base64url ids start with "-" one time in 64."""
    from devstack import kafka

    monkeypatch.setattr(kafka, "_cluster_id", lambda: "-AbCdEfGhIjKlMnOpQrStUv")
    with kafka.KafkaBroker() as broker:
        assert broker.bootstrap.startswith("127.0.0.1:")


# --------------------------------------------------------------------------- SASL + ACLs
def test_scram_users_are_checked_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="super user"):
        KafkaBroker(scram_users={SUPER_USER: "pw"})
    with pytest.raises(ValueError, match="A-Za-z0-9"):
        KafkaBroker(scram_users={"alice": 'pw"; evil'})
    assert KafkaBroker().client_options() == {}
    assert not KafkaBroker().authenticated


def test_scram_mode_properties() -> None:
    broker = KafkaBroker(scram_users={"alice": "alice-pw"})
    broker.port, broker.controller_port = 19092, 19093
    props = dict(line.split("=", 1) for line in broker._properties(Path("/tmp/x")).splitlines())
    assert props["listeners"] == ("SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093")
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == f"User:{SUPER_USER};User:ANONYMOUS"
    assert (
        broker._scram_arguments()[-1] == "--add-scram=SCRAM-SHA-512=[name=alice,password=alice-pw]"
    )
    assert broker.client_options("alice") == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "alice",
        "sasl_plain_password": "alice-pw",
    }


async def _produce(bootstrap: str, topic: str, **options: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, request_timeout_ms=10000, **options)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"v", key=b"k")
    finally:
        await producer.stop()


def test_scram_broker_authenticates_and_enforces_acls() -> None:
    with KafkaBroker(scram_users={"alice": "alice-pw"}) as kafka:
        assert kafka.authenticated
        topic = unique("t-acl")
        create_topics(kafka.bootstrap, [topic], partitions=1, client_options=kafka.client_options())
        alice = kafka.client_options("alice")
        with pytest.raises(TopicAuthorizationFailedError):  # no ACL yet: nothing allowed
            asyncio.run(_produce(kafka.bootstrap, topic, **alice))
        create_acls(
            kafka.bootstrap,
            [Acl("User:alice", "topic", topic, "Write")],
            kafka.client_options(),
        )
        asyncio.run(_produce(kafka.bootstrap, topic, **alice))
        with pytest.raises(KafkaConnectionError):  # no SASL: no metadata, nothing
            asyncio.run(_produce(kafka.bootstrap, topic))
        with pytest.raises(KafkaConnectionError):
            asyncio.run(_produce(kafka.bootstrap, topic, **{**alice, "sasl_plain_password": "x"}))


async def test_restart_keeps_ports_and_log(tmp_path: Path) -> None:
    """A clean stop and a crash (SIGKILL): the same broker comes back with its records."""
    from aiokafka import AIOKafkaConsumer

    topic = unique("t-restart")
    with KafkaBroker() as kafka:
        port, tmpdir = kafka.port, kafka.tmpdir
        create_topics(kafka.bootstrap, [topic], partitions=1)

        async def produce(n: int) -> None:
            producer = AIOKafkaProducer(
                bootstrap_servers=kafka.bootstrap, acks="all", enable_idempotence=True
            )
            await producer.start()
            try:
                for i in range(n):
                    await producer.send_and_wait(topic, f"{i}".encode())
            finally:
                await producer.stop()

        await produce(3)
        kafka.halt()
        assert not kafka.running and kafka.port == port
        await asyncio.to_thread(kafka.resume)
        await produce(2)
        seconds = await asyncio.to_thread(kafka.restart, down_s=0.2, kill=True)
        print(f"Kafka crashed and restarted in {seconds:.1f}s")
        assert kafka.running and kafka.port == port and kafka.tmpdir == tmpdir
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka.bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=10_000, max_records=10)
            values = [r.value for records in batches.values() for r in records]
        finally:
            await consumer.stop()
        assert values == [b"0", b"1", b"2", b"0", b"1"]
    assert tmpdir is not None and not tmpdir.exists()
