"""Apache Kafka from the Maven jars (the kafka_bootstrap fixture falls back to KafkaBroker)."""

from __future__ import annotations

import time

import pytest
from _devstack_helpers import group_roundtrip, unique
from aiokafka.admin import AIOKafkaAdminClient

from devstack.kafka import (
    KafkaBroker,
    KafkaStartError,
    cache_dir,
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
