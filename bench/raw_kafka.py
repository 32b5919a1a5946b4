"""Baseline: the same broker driven by bare aiokafka, with records shaped like ours."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from load import TopicWatcher, ce_id, now

from common.envelope import Envelope, new_traceparent
from devstack.kafka import acreate_topics
from registration.events import Channel, ResidenceDeclared
from registration.settings import RegistrationSettings

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]
KEYS = [str(uuid.uuid4()) for _ in range(20)]  # 20 properties
BATCH = RegistrationSettings.model_fields["consumer_batch_size"].default  # figures consumer


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
    drain_rates: dict[str, float] = field(default_factory=dict)  # fresh group, msg/s


def producer(bootstrap: str, idempotent: bool) -> AIOKafkaProducer:
    # The service's producer settings (common.runtime.build_runtime).
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=idempotent, linger_ms=2
    )


async def send_all(prod: AIOKafkaProducer, topic: str, records: list[Record]) -> None:
    """Enqueue every record at once, then wait for every ack."""
    acks = [await prod.send(topic, v, key=k, headers=h) for k, v, h in records]
    await asyncio.gather(*acks)


@contextlib.asynccontextmanager
async def group_consumer(bootstrap: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in a new group, from the earliest offset, once it has its partitions."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        for _ in range(600):  # up to 30 s for the group to get its partitions
            if consumer.assignment():
                break
            await asyncio.sleep(0.05)
        yield consumer
    finally:
        await consumer.stop()


async def consume(
    consumer: AIOKafkaConsumer,
    n: int,
    limit_s: float,
    batch: int,
    sent: dict[str, float] | None = None,
) -> tuple[list[float], int, float]:
    """Read up to ``n`` records, committing after each batch of at most ``batch``.

    ``batch=BATCH`` is what the figures consumer does (one commit per batch), ``batch=1``
    a commit after each message. Returns (latencies since ``sent[ce_id]``, records read,
    seconds from the call to the last commit).
    """
    latencies: list[float] = []
    got, started = 0, now()
    done = started
    while got < n and (left := started + limit_s - now()) > 0:
        batches = await consumer.getmany(timeout_ms=int(min(left, 1) * 1000), max_records=batch)
        arrived = now()
        for msg in itertools.chain.from_iterable(batches.values()):
            got += 1
            if sent is not None:
                latencies.append(arrived - sent[ce_id(msg)])
        if batches:
            await consumer.commit()
            done = now()
    return latencies, got, done - started


async def run_raw(
    bootstrap: str, idempotent: bool, n: int, rate: float, grace_s: float, drain_s: float
) -> RawResult:
    suffix = uuid.uuid4().hex[:8]
    paced_topic, flat_topic = f"bench.raw.paced.{suffix}", f"bench.raw.flat.{suffix}"
    await acreate_topics(bootstrap, [paced_topic, flat_topic], partitions=3)
    result = RawResult()
    prod = producer(bootstrap, idempotent)
    await prod.start()
    try:
        # 1. paced at the service run's rate: a plain reader, and a group committing per batch
        async with (
            TopicWatcher(bootstrap, paced_topic, ce_id) as reader,
            group_consumer(bootstrap, paced_topic) as group,
        ):
            sent: dict[str, float] = {}
            consuming = asyncio.create_task(consume(group, n, n / rate + grace_s, BATCH, sent))
            started, acks = now(), []
            for i in range(n):
                target = started + i / rate
                if (delay := target - now()) > 0:
                    await asyncio.sleep(delay)
                key, (k, v, h) = record(i)
                sent[key] = target
                acks.append(await prod.send(paced_topic, v, key=k, headers=h))
            await asyncio.gather(*acks)
            await reader.wait_for(set(sent), limit_s=grace_s)
            result.consumed, got, _ = await consuming
        result.visible = [reader.arrived[k] - t for k, t in sent.items() if k in reader.arrived]
        result.size = round(sum(reader.sizes) / max(1, len(reader.sizes)))
        result.consumed_cut = n - got
        result.consumed += [now() - t for t in sorted(sent.values())[got:]]  # lower bounds

        # 2. flat out: every record enqueued at once, until the last ack
        records = [record(i)[1] for i in range(n)]
        started = now()
        await send_all(prod, flat_topic, records)
        result.produce_rate = n / (now() - started)
    finally:
        await prod.stop()

    # 3. fresh groups drain the flat-out topic: commit per batch (like ours), per message
    for name, batch in (("batch", BATCH), ("message", 1)):
        async with group_consumer(bootstrap, flat_topic) as group:
            _, got, seconds = await consume(group, n, drain_s, batch)
        result.drain_rates[name] = got / seconds if seconds > 0 else 0.0
    return result
