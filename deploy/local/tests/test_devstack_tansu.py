"""The embedded Tansu broker: what works with aiokafka and what does not."""

from __future__ import annotations

import pytest
from _devstack_helpers import group_roundtrip, unique
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from devstack.kafka import create_topics
from devstack.tansu import TansuBroker

pytestmark = pytest.mark.integration


async def test_roundtrip_with_consumer_group(embedded_bootstrap: str) -> None:
    await group_roundtrip(embedded_bootstrap, unique("t-tansu"), unique("g"), idempotent=False)


async def test_topics_auto_create(embedded_bootstrap: str) -> None:
    topic = unique("auto")
    producer = AIOKafkaProducer(bootstrap_servers=embedded_bootstrap)
    await producer.start()
    try:
        md = await producer.send_and_wait(topic, b"x")
        assert md.offset == 0
        assert await producer.partitions_for(topic)
    finally:
        await producer.stop()


async def test_create_topics_via_admin_api(embedded_bootstrap: str) -> None:
    names = [unique("explicit")]
    create_topics(embedded_bootstrap, names, partitions=3)
    create_topics(embedded_bootstrap, names, partitions=3)  # idempotent
    admin = AIOKafkaAdminClient(bootstrap_servers=embedded_bootstrap)
    await admin.start()
    try:
        assert names[0] in await admin.list_topics()
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == 3


async def test_no_idempotent_producer(embedded_bootstrap: str) -> None:
    """Known limitation: InitProducerId fails, so services must disable idempotence."""
    producer = AIOKafkaProducer(bootstrap_servers=embedded_bootstrap, enable_idempotence=True)
    try:
        with pytest.raises(Exception):  # noqa: B017 - aiokafka raises UnknownError
            await producer.start()
            await producer.send_and_wait(unique("idem"), b"x")
    finally:
        await producer.stop()


def test_lifecycle() -> None:
    with TansuBroker() as tansu:
        tmpdir, proc = tansu.tmpdir, tansu._proc
        assert proc is not None and proc.poll() is None
        assert tansu.startup_seconds is not None
        print(f"Tansu started in {tansu.startup_seconds:.2f}s")
    assert proc.poll() is not None
    assert tmpdir is not None and not tmpdir.exists()
