"""Poison records on every consumed topic of every service (issue 7).

Every service built on the kit is found, not listed: ``services/*`` as devstack finds
them, and the kit's examples (``examples/*``). Each runs as a process
(:class:`ServiceProcess`) on real Apache Kafka and a PostgreSQL database of its own. What
it consumes comes from its declaration: ``Service.kafka_usage().subscriptions`` names
each consumer group's topic and the event types its inbox reads.

On every consumed topic the poison catalogue (:func:`common.testing.poison_records`) is
produced once per event type read there, every poison between two valid records, all on
one partition. Valid records are the committed schema examples
(``schemas/<context>/<Name>.v<N>.json``) with fresh ids and ``ce_id``s; a plain feed (a
consumer without an inbox) says how to make one and how to find what it applied in
:data:`PLAIN_FEEDS`. Then, for every consumer group of the topic:

- nothing stalls: the group's committed offset passes the last record;
- every record it must dead-letter (:func:`common.testing.poison_outcome`) is in
  ``<topic>.dlq`` naming the group, at the first attempt (a poison is not retried), with
  its key, its body and its raw headers (hex-encoded where they are not text, named in
  ``dlq_hex_headers``), and the ``dlq_*`` headers;
- every record it must apply is applied: its ``ce_id`` is in the group's inbox (a plain
  feed: in its own table). The examples name properties and leads a fresh database does
  not hold, so a handler may refuse one by a domain rule: dead-lettered with a domain
  error (:data:`DOMAIN_REFUSALS`). That counts as handled, and is reported; a database
  error or a decoding error never does;
- what it does not read it skips (no inbox row, no dead letter);
- the service is still running and ready, and logged no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from common.envelope import Envelope
from common.errors import Conflict, DomainError, Forbidden, NotFound
from common.events import Event
from common.inbox import DLQ_SUFFIX, PoisonMessage, decode_event, inbox_key
from common.runtime import Subscription
from common.service import Service
from common.testing import PoisonRecord, example_bodies, poison_outcome, poison_records
from devstack.kafka import create_topics
from devstack.pytest_plugin import DatabaseProvider
from devstack.stack import discover_services
from tests.integration.services import SECRET, ServiceProcess

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PARTITION = 0
"""Every record of a topic goes to this partition: a poison's neighbours are its own."""
SETTLE_S = 90.0
"""Bound on the wait for every group to pass the last record (it took 10-20 s here)."""
DLQ_HEADERS = (
    "dlq_error",
    "dlq_error_type",
    "dlq_original_topic",
    "dlq_original_partition",
    "dlq_original_offset",
    "dlq_attempts",
    "dlq_consumer",
)


def kit_services() -> list[Service[Any]]:
    """Every service on the kit: ``services/*`` (devstack's discovery) and ``examples/*``."""
    modules = [spec.module for spec in discover_services(REPO)]
    modules += [
        path.name.replace("-", "_")
        for path in sorted((REPO / "examples").iterdir())
        if (path / "pyproject.toml").is_file()
    ]
    services = []
    for module in modules:
        declared = getattr(importlib.import_module(f"{module}.main"), "service", None)
        assert isinstance(declared, Service), f"{module}.main declares no service"
        services.append(declared)
    return services


SERVICES = {service.name: service for service in kit_services()}
SUBSCRIPTIONS = [
    (name, subscription)
    for name, service in SERVICES.items()
    for subscription in service.kafka_usage().subscriptions
]


def _names(*roots: type[BaseException]) -> frozenset[str]:
    found: set[str] = set()
    pending = list(roots)
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return frozenset(found)


DOMAIN_REFUSALS = _names(PoisonMessage, DomainError, NotFound, Forbidden, Conflict)
"""``dlq_error_type``s of a record a handler refused by a rule of its domain (raised by
the handler: the record decoded, it was checked beforehand)."""


# --------------------------------------------------------------------------- plain feeds
@dataclass(frozen=True)
class PlainFeed:
    """A topic consumed without an inbox: how to make a valid record, and which of the
    given bodies its consumer applied (read from the service's own tables)."""

    valid: Callable[[], tuple[bytes | None, bytes]]
    applied: Callable[[AsyncConnection, list[bytes]], Awaitable[set[bytes]]]


def access_entry() -> tuple[bytes | None, bytes]:
    """One valid access-control entry: an unmatched face at a building, now."""
    property_id = str(uuid.uuid4())
    body = {
        "device_id": f"D-{property_id}",
        "property_id": property_id,
        "face_token": f"face-{uuid.uuid4().hex}",
        "direction": "in",
        "at": datetime.now(UTC).isoformat(),
    }
    return property_id.encode(), json.dumps(body).encode()


async def access_entries_applied(conn: AsyncConnection, bodies: list[bytes]) -> set[bytes]:
    """Registration counts an applied entry into ``access_sightings`` (a fresh property
    per entry: a row for it means the entry was applied; its key is remembered in
    ``access_entry_keys``, its day and a hash, which the suite cannot name)."""
    by_property: dict[str, bytes] = {}
    for body in bodies:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            by_property[json.loads(body)["property_id"]] = body
    rows = await conn.execute(
        text("SELECT DISTINCT property_id FROM access_sightings WHERE property_id IN :ids")
        .bindparams(bindparam("ids", expanding=True)),
        {"ids": list(by_property)},
    )  # fmt: skip
    return {by_property[row.property_id] for row in rows}


PLAIN_FEEDS: dict[str, PlainFeed] = {
    "feeds.access-control": PlainFeed(access_entry, access_entries_applied),
}


# --------------------------------------------------------------------------- the plan
def valid_record(topic: str, event: type[Event] | None, make: Callable[[], Any]) -> PoisonRecord:
    key, body = make()
    ce_id = str(uuid.uuid4())
    headers = (
        Envelope(
            type=event.ce_type(), source="/tests/poison", subject=key.decode(), id=ce_id
        ).headers()
        if event is not None
        else []
    )
    return PoisonRecord(
        case="valid",
        topic=topic,
        key=key,
        value=body,
        headers=tuple(headers),
        broken="nothing",
        ce_type=event.ce_type() if event is not None else None,
        ce_id=ce_id if event is not None else None,
    )


def plan(topic: str, subscriptions: list[Subscription]) -> list[PoisonRecord]:
    """The records of one topic, in order: the catalogue once per event type read there,
    a valid record (of each read type in turn) before every poison and after the last."""
    if any(s.events is None for s in subscriptions):
        assert all(s.events is None for s in subscriptions), f"{topic}: plain and inbox?"
        feed = PLAIN_FEEDS.get(topic)
        assert feed is not None, (
            f"{topic} is consumed without an inbox ({[s.group for s in subscriptions]}): "
            "add it to PLAIN_FEEDS (a valid record, and where its consumer records it)"
        )
        kinds: list[tuple[type[Event] | None, Callable[[], Any]]] = [(None, feed.valid)]
    else:
        read: dict[str, type[Event]] = {}
        for subscription in subscriptions:
            for reader in subscription.events or ():
                read.setdefault(reader.ce_type(), reader)
        kinds = [(reader, example_bodies(reader, REPO)) for _, reader in sorted(read.items())]
    records: list[PoisonRecord] = []
    turn = 0
    for event, make in kinds:
        for poison in poison_records(topic, make, event=event):
            records += [valid_record(topic, *kinds[turn % len(kinds)]), poison]
            turn += 1
    records += [valid_record(topic, event, make) for event, make in kinds]
    return records


def check_readable(record: PoisonRecord, subscriptions: list[Subscription]) -> None:
    """A record meant to be applied decodes with every reader of its type (it is built
    from the producer's committed example), so a dead letter of it is its handler's."""
    for subscription in subscriptions:
        readers = {
            e.ce_type(): e for e in subscription.events or () if e.ce_type() == record.ce_type
        }
        if readers:
            _, event = decode_event(
                record.headers, record.value or b"", readers,
                foreign_topic=subscription.foreign_topic,
            )  # fmt: skip
            assert event is not None, f"{subscription.group} cannot read {record.ce_type}"


# --------------------------------------------------------------------------- the run
@dataclass
class Run:
    """What was produced and what came of it."""

    records: dict[str, list[tuple[int, PoisonRecord]]] = field(default_factory=dict)
    committed: dict[tuple[str, str], int] = field(default_factory=dict)
    dead_letters: dict[tuple[str, int, str], list[Any]] = field(default_factory=dict)
    inboxes: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    applied_plain: dict[tuple[str, str], set[bytes]] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    alive: dict[str, bool] = field(default_factory=dict)
    ready: dict[str, bool] = field(default_factory=dict)
    tracebacks: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def service_env(service: Service[Any], bootstrap: str, database_url: str) -> dict[str, str]:
    prefix = str(service.settings.model_config.get("env_prefix", ""))
    return {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        f"{prefix}JWT_SECRET": SECRET,
        f"{prefix}OUTBOX_POLL_INTERVAL_S": "0.2",
        f"{prefix}CONSUMER_BACKOFF_S": "0.02",
        f"{prefix}LOG_LEVEL": "INFO",
    }


def wait_ready(processes: list[ServiceProcess], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    while waiting and time.monotonic() < deadline:
        for process in list(waiting):
            assert process.proc is not None
            if process.proc.poll() is not None:
                raise AssertionError(f"{process.name} exited:\n{process.tail()}")
            try:
                if httpx.get(f"{process.url}/readyz", timeout=1).status_code == 200:
                    waiting.remove(process)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    assert not waiting, f"not ready in {timeout} s: {[p.name for p in waiting]}"


async def produce(bootstrap: str, records: list[PoisonRecord]) -> list[int]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        sent = [
            await producer.send(
                r.topic, value=r.value, key=r.key, headers=list(r.headers), partition=PARTITION
            )
            for r in records
        ]
        return [metadata.offset for metadata in await asyncio.gather(*sent)]
    finally:
        await producer.stop()


async def settle(
    bootstrap: str, ends: dict[str, int], run: Run, deadline: float
) -> dict[tuple[str, str], int]:
    """Wait until every group's committed offset passes its topic's last record."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    committed: dict[tuple[str, str], int] = {}
    try:
        while True:
            for name, subscription in SUBSCRIPTIONS:
                tp = TopicPartition(subscription.topic, PARTITION)
                offsets = await admin.list_consumer_group_offsets(subscription.group)
                at = offsets.get(tp)
                committed[(subscription.group, subscription.topic)] = at.offset if at else -1
                process = run.processes[name].proc
                assert process is not None and process.poll() is None, (
                    f"{name} exited:\n{run.processes[name].tail()}"
                )
            if all(committed[(s.group, s.topic)] >= ends[s.topic] for _, s in SUBSCRIPTIONS):
                return committed
            if time.monotonic() > deadline:
                return committed
            await asyncio.sleep(0.5)
    finally:
        await admin.close()


async def read_dead_letters(
    bootstrap: str, topic: str, offsets: set[int]
) -> dict[tuple[str, int, str], list[Any]]:
    """The records of ``<topic>.dlq`` that are dead letters of ``offsets`` of ``topic``'s
    partition, by (topic, offset, consumer group)."""
    dlq = topic + DLQ_SUFFIX
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([dlq])
    finally:
        await admin.close()
    partitions = [TopicPartition(dlq, p["partition"]) for p in described["partitions"]]
    assert partitions, f"no {dlq}: {described}"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    found: dict[tuple[str, int, str], list[Any]] = defaultdict(list)
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        async with asyncio.timeout(30):
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    for record in batch:
                        headers = dict(record.headers)
                        if (
                            headers.get("dlq_original_topic") == topic.encode()
                            and headers.get("dlq_original_partition") == str(PARTITION).encode()
                            and int(headers.get("dlq_original_offset", b"-1")) in offsets
                        ):
                            offset = int(headers["dlq_original_offset"])
                            group = headers.get("dlq_consumer", b"").decode()
                            found[(topic, offset, group)].append(record)
    finally:
        await consumer.stop()
    return found


@pytest.fixture(scope="module")
async def run(
    kafka: str,
    postgres_cluster: DatabaseProvider,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Run]:
    started = time.monotonic()
    result = Run()
    by_topic: dict[str, list[Subscription]] = defaultdict(list)
    for _, subscription in SUBSCRIPTIONS:
        by_topic[subscription.topic].append(subscription)
    for service in SERVICES.values():
        create_topics(kafka, service.topic_names(), partitions=3)

    databases: dict[str, str] = {}
    try:
        logs = tmp_path_factory.mktemp("poison")
        for name, service in SERVICES.items():
            databases[name] = f"t_poison_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
            url = postgres_cluster.create_database(databases[name])
            result.database_urls[name] = url
            result.processes[name] = ServiceProcess(name, service_env(service, kafka, url), logs)
        for process in result.processes.values():
            process.migrate()
            process.spawn()
        wait_ready(list(result.processes.values()))

        ends: dict[str, int] = {}
        for topic, subscriptions in sorted(by_topic.items()):
            records = plan(topic, subscriptions)
            for record in records:
                if record.broken == "nothing" and record.ce_type is not None:
                    check_readable(record, subscriptions)
            offsets = await produce(kafka, records)
            result.records[topic] = list(zip(offsets, records, strict=True))
            ends[topic] = max(offsets) + 1
        result.committed = await settle(kafka, ends, result, time.monotonic() + SETTLE_S)

        for topic, sent in result.records.items():
            result.dead_letters.update(
                await read_dead_letters(kafka, topic, {offset for offset, _ in sent})
            )
        for name in result.processes:
            engine = create_async_engine(result.database_urls[name])
            try:
                async with engine.connect() as conn:
                    rows = await conn.execute(text("SELECT consumer, event_id FROM inbox"))
                    result.inboxes[name] = {(row.consumer, row.event_id) for row in rows}
                    for service_name, subscription in SUBSCRIPTIONS:
                        if service_name == name and subscription.events is None:
                            bodies = [
                                r.value for _, r in result.records[subscription.topic]
                                if r.value is not None
                                and poison_outcome(r, subscription) == "apply"
                            ]  # fmt: skip
                            result.applied_plain[
                                (subscription.group, subscription.topic)
                            ] = await PLAIN_FEEDS[subscription.topic].applied(conn, bodies)
            finally:
                await engine.dispose()
        for name, process in result.processes.items():
            assert process.proc is not None
            result.alive[name] = process.proc.poll() is None
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    result.ready[name] = (await client.get(f"{process.url}/readyz")).is_success
            except httpx.HTTPError:
                result.ready[name] = False
            result.tracebacks[name] = process.tail(100_000).count("Traceback")
        result.seconds = time.monotonic() - started
        report(result, request)
        yield result
    finally:
        for process in result.processes.values():
            process.stop()
        for database in databases.values():
            with contextlib.suppress(Exception):  # best effort, as pg_url's
                postgres_cluster.drop_database(database)


# --------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class Verdict:
    """What one group did with one record, as the run shows it."""

    outcome: str  # applied | dead-lettered | skipped | applied and dead-lettered
    dead_letters: list[Any]
    detail: str = ""


def verdict(
    run: Run, service: str, subscription: Subscription, offset: int, record: PoisonRecord
) -> Verdict:
    letters = run.dead_letters.get((subscription.topic, offset, subscription.group), [])
    if subscription.events is None:
        applied = record.value in run.applied_plain.get(
            (subscription.group, subscription.topic), set()
        )
    else:
        applied = record.ce_id is not None and (
            (subscription.group, inbox_key(record.ce_id)) in run.inboxes[service]
        )
    if applied and letters:
        return Verdict("applied and dead-lettered", letters)
    if applied:
        return Verdict("applied", letters)
    if letters:
        headers = dict(letters[0].headers)
        kind = headers.get("dlq_error_type", b"").decode()
        detail = (
            f"{kind} after {headers.get('dlq_attempts', b'?').decode()} attempt(s): "
            + (headers.get("dlq_error", b"").decode(errors="replace")[:200])
        )
        return Verdict("dead-lettered", letters, detail)
    return Verdict("skipped", letters)


def dead_letter_problems(
    record: PoisonRecord, offset: int, letter: Any, group: str, poison: bool
) -> list[str]:
    """How a dead letter differs from the record it stands for (empty: it is faithful)."""
    problems: list[str] = []
    where = f"{record.case} (offset {offset})"
    headers = list(letter.headers)
    dlq = {k: v for k, v in headers if k.startswith("dlq_")}
    missing = [name for name in DLQ_HEADERS if name not in dlq]
    if missing:
        problems.append(f"{where}: dead letter lacks {missing}")
    expected = {
        "dlq_original_topic": record.topic.encode(),
        "dlq_original_partition": str(PARTITION).encode(),
        "dlq_original_offset": str(offset).encode(),
        "dlq_consumer": group.encode(),
    }
    for name, value in expected.items():
        if dlq.get(name) != value:
            problems.append(f"{where}: {name} is {dlq.get(name)!r}, not {value!r}")
    if poison and dlq.get("dlq_attempts") != b"1":
        problems.append(f"{where}: a poison retried: dlq_attempts {dlq.get('dlq_attempts')!r}")
    hexed = set((dlq.get("dlq_hex_headers") or b"").decode().split(",")) - {""}
    restored = [
        (k, bytes.fromhex(v.decode()) if k in hexed else v)
        for k, v in headers
        if not k.startswith("dlq_")
    ]
    if restored != list(record.headers):
        lost = Counter(record.headers) - Counter(restored)
        added = Counter(restored) - Counter(record.headers)
        problems.append(
            f"{where}: raw headers not preserved: "
            + (
                f"lost {[(k, v[:40]) for k, v in lost]}, added {[(k, v[:40]) for k, v in added]}"
                if lost or added
                else f"reordered: {[k for k, _ in restored]}"
            )
        )
    if letter.value != record.value:
        problems.append(
            f"{where}: body not preserved ({len(record.value or b'')} bytes"
            f"{' (null)' if record.value is None else ''} sent, {len(letter.value or b'')}"
            f"{' (null)' if letter.value is None else ''} in the dead letter)"
        )
    if letter.key != record.key:
        problems.append(f"{where}: key not preserved: sent {record.key!r}, got {letter.key!r}")
    return problems


def seen_as(run: Run, service: str, subscription: Subscription, offset: int, record: Any) -> str:
    """What the group did, in the report's words: a domain refusal names its error."""
    seen = verdict(run, service, subscription, offset, record)
    if seen.outcome == "dead-lettered" and poison_outcome(record, subscription) == "apply":
        kind = dict(seen.dead_letters[0].headers).get("dlq_error_type", b"?").decode()
        return f"refused by the domain ({kind})"
    return seen.outcome


def report(run: Run, request: pytest.FixtureRequest) -> None:
    """Per service, group and topic: the records produced, and what came of them."""
    lines = [
        f"poison suite: {len(SERVICES)} services ({', '.join(SERVICES)}), "
        f"{len(SUBSCRIPTIONS)} consumer groups, {len(run.records)} topics, {run.seconds:.1f} s"
    ]
    for service, subscription in SUBSCRIPTIONS:
        sent = run.records[subscription.topic]
        tallies: dict[str, Counter[str]] = {"poison": Counter(), "valid": Counter()}
        for offset, record in sent:
            kind = "valid" if record.case == "valid" else "poison"
            tallies[kind][seen_as(run, service, subscription, offset, record)] += 1
        lines.append(
            f"  {service} {subscription.group} @ {subscription.topic}: "
            + "; ".join(
                f"{kind} {sum(tally.values())} ("
                + ", ".join(f"{what} {n}" for what, n in sorted(tally.items()))
                + ")"
                for kind, tally in tallies.items()
            )
        )
    capture = request.config.pluginmanager.getplugin("capturemanager")
    text_out = "\n".join(lines)
    if capture is not None:
        with capture.global_and_fixture_disabled():
            print("\n" + text_out)
    else:  # pragma: no cover
        print(text_out)


def subscription_ids() -> Iterator[Any]:
    for service, subscription in SUBSCRIPTIONS:
        yield pytest.param(
            service, subscription, id=f"{service}:{subscription.group}@{subscription.topic}"
        )


@pytest.mark.parametrize(("service", "subscription"), list(subscription_ids()))
def test_every_poison_is_dead_lettered_as_it_came(
    run: Run, service: str, subscription: Subscription
) -> None:
    problems: list[str] = []
    for offset, record in run.records[subscription.topic]:
        expected = poison_outcome(record, subscription)
        seen = verdict(run, service, subscription, offset, record)
        if expected == "dead-letter":
            if seen.outcome != "dead-lettered":
                problems.append(
                    f"{record.case} (offset {offset}): {seen.outcome}, not dead-lettered"
                )
            for letter in seen.dead_letters:
                problems += dead_letter_problems(record, offset, letter, subscription.group, True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("service", "subscription"), list(subscription_ids()))
def test_the_records_around_it_are_applied_and_nothing_stalls(
    run: Run, service: str, subscription: Subscription
) -> None:
    sent = run.records[subscription.topic]
    end = max(offset for offset, _ in sent) + 1
    problems: list[str] = []
    committed = run.committed[(subscription.group, subscription.topic)]
    if committed < end:
        problems.append(f"stalled: committed offset {committed}, the last record is {end - 1}")
    for offset, record in sent:
        expected = poison_outcome(record, subscription)
        seen = verdict(run, service, subscription, offset, record)
        where = f"{record.case} (offset {offset}, {record.ce_type})"
        if expected == "apply":
            refused = seen.outcome == "dead-lettered" and any(
                dict(letter.headers).get("dlq_error_type", b"").decode() in DOMAIN_REFUSALS
                for letter in seen.dead_letters
            )
            if seen.outcome != "applied" and not refused:
                problems.append(f"{where}: {seen.outcome}, not applied: {seen.detail}")
            for letter in seen.dead_letters:  # a refusal is dead-lettered faithfully too
                problems += dead_letter_problems(record, offset, letter, subscription.group, False)
        elif expected == "skip" and seen.outcome != "skipped":
            problems.append(f"{where}: {seen.outcome}, not skipped: {seen.detail}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_the_service_is_still_up(run: Run, service: str) -> None:
    assert run.alive[service], run.processes[service].tail()
    assert run.ready[service], run.processes[service].tail()
    assert run.tracebacks[service] == 0, run.processes[service].tail(200)
