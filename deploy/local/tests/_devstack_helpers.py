"""Shared helpers for the devstack tests (fixtures come from devstack.pytest_plugin)."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


async def group_roundtrip(bootstrap: str, topic: str, group: str, *, idempotent: bool) -> None:
    """Produce with acks=all, consume through a consumer group, commit, check the commit."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent
    )
    await producer.start()
    try:
        md = await producer.send_and_wait(
            topic, b"payload-1", key=b"key-1", headers=[("trace", b"abc")]
        )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), 60)
        assert (msg.key, msg.value) == (b"key-1", b"payload-1")
        assert ("trace", b"abc") in list(msg.headers)
        await consumer.commit()
    finally:
        await consumer.stop()

    # The commit is stored for the group: read it back with a fresh client (no join, so
    # this does not wait out Tansu's slow group rebalances).
    tp = TopicPartition(topic, md.partition)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        assert await reader.committed(tp) == md.offset + 1
    finally:
        await reader.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"
