"""Baseline: the same broker driven by bare aiokafka, with records shaped like ours."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from load import TopicWatcher, ce_id, now

from common.envelope import Envelope, new_traceparent
from devstack.kafka import acreate_topics
from registration.events import Channel, ResidenceDeclared

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]
KEYS = [str(uuid.uuid4()) for _ in range(20)]  # 20 properties


def record(seq: int) -> tuple[str, Record]:
    """(ce_id, record) of a ResidenceDeclared as the outbox relay publishes it."""
    at = datetime.now(UTC)
    event = ResidenceDeclared(
        residence_id=str(uuid.uuid4()),
        property_id=KEYS[seq % len(KEYS)],
        grid_id="BENCH-000000",
        room_no="105",
        person_ref="P" + uuid.uuid4().hex[:23],
        id_number_masked="4403**********1234",
        gender="female",
        birth_year=1970,
        origin_region="440306",
        moved_in_on=at.date(),
        declared_at=at,
        deadline=at.date() + timedelta(days=3),
        on_time=True,
        channel=Channel.LANDLORD_SELF_DECLARATION,
        over_capacity=False,
        policy_version="default-2026",
    )
    envelope = Envelope(
        type=event.ce_type(),
        source="/services/registration",
        subject=event.subject(),
        correlation_id=str(uuid.uuid4()),
        traceparent=new_traceparent(),
    )
    return envelope.id, (event.subject().encode(), event.to_json(), envelope.headers())


@dataclass
class RawResult:
    size: int = 0
    visible: list[float] = field(default_factory=list)  # produce -> seen by a reader, s
    consumed: list[float] = field(default_factory=list)  # produce -> group consumer, s
    consumed_cut: int = 0  # not consumed by the cut-off (their ages are in ``consumed``)
    produce_rate: float = 0.0  # flat out, msg/s until every ack
    consume_rate: float = 0.0  # fresh group, commit after each message, msg/s


async def group_consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    for _ in range(600):  # up to 30 s for the group to get its partitions
        if consumer.assignment():
            break
        await asyncio.sleep(0.05)
    return consumer


async def consume(
    consumer: AIOKafkaConsumer, n: int, limit_s: float, sent: dict[str, float] | None = None
) -> tuple[list[float], float, int]:
    """Up to ``n`` records, committing after each (like FastStream's ack after the handler).

    Returns (latencies since ``sent[ce_id]``, time of the first record, records read).
    """
    latencies: list[float] = []
    first, got, deadline = 0.0, 0, now() + limit_s
    while got < n and (left := deadline - now()) > 0:
        try:
            msg = await asyncio.wait_for(consumer.getone(), timeout=left)
        except TimeoutError:
            break
        first, got = first or now(), got + 1
        if sent is not None:
            latencies.append(now() - sent[ce_id(msg)])
        await consumer.commit()
    return latencies, first, got


async def run_raw(
    bootstrap: str, idempotent: bool, suffix: str, n: int, rate: float, grace_s: float
) -> RawResult:
    paced_topic, flat_topic = f"bench.raw.paced.{suffix}", f"bench.raw.flat.{suffix}"
    await acreate_topics(bootstrap, [paced_topic, flat_topic], partitions=3)
    result = RawResult()
    # The service's producer settings (common.runtime.build_runtime).
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, linger_ms=2
    )
    await producer.start()
    try:
        # 1. paced at the service run's rate: a plain reader and a committing group
        reader = TopicWatcher(bootstrap, paced_topic, ce_id)
        await reader.start()  # stopped below, or by the process exit on an error
        group = await group_consumer(bootstrap, paced_topic)
        sent: dict[str, float] = {}
        consuming = asyncio.create_task(consume(group, n, n / rate + grace_s, sent))
        started, acks = now(), []
        for i in range(n):
            target = started + i / rate
            if (delay := target - now()) > 0:
                await asyncio.sleep(delay)
            key, (k, v, h) = record(i)
            sent[key] = target
            acks.append(await producer.send(paced_topic, v, key=k, headers=h))
        await asyncio.gather(*acks)
        await reader.wait_for(set(sent), limit_s=grace_s)
        result.visible = [reader.arrived[k] - t for k, t in sent.items() if k in reader.arrived]
        result.size = round(sum(reader.sizes) / max(1, len(reader.sizes)))
        result.consumed, _, got = await consuming
        result.consumed_cut = n - got
        result.consumed += [now() - t for t in sorted(sent.values())[got:]]  # lower bounds
        await reader.stop()
        await group.stop()

        # 2. flat out: every record enqueued at once, until the last ack
        records = [record(i)[1] for i in range(n)]
        started = now()
        acks = [await producer.send(flat_topic, v, key=k, headers=h) for k, v, h in records]
        await asyncio.gather(*acks)
        result.produce_rate = n / (now() - started)
    finally:
        await producer.stop()

    # 3. a fresh group drains the flat-out topic, committing after each message
    group = await group_consumer(bootstrap, flat_topic)
    try:
        _, first, got = await consume(group, n, limit_s=grace_s)
        result.consume_rate = (got - 1) / (now() - first) if got > 1 else 0.0
    finally:
        await group.stop()
    return result
