"""Test scaffolding for any service built on the kit (``common.service``).

A service's ``tests/conftest.py`` needs only a few lines::

    @pytest.fixture(scope="session")
    def migrated_database(tmp_path_factory):
        return migrated_sqlite(service, tmp_path_factory.mktemp("template"))

    @pytest.fixture
    async def app(migrated_database, tmp_path):
        settings = MySettings(database_url=sqlite_copy(migrated_database, tmp_path), ...)
        async with run_service(service, settings, clock=FakeClock(NOW),
                               record=("my.events",)) as running:
            yield running

:func:`run_service` builds the real app, swaps its broker for FastStream's in-memory
``TestKafkaBroker``, runs its lifespan (the outbox relay, the consumers and the timers
run as in production) and drives the HTTP API through ``httpx.ASGITransport``; every
message on the ``record`` topics is kept in :attr:`Running.records`. Tokens are minted
with :func:`common.auth.mint_token`, time is a :class:`common.clock.FakeClock`.

:func:`poison_records` is the poison catalogue a consumed topic is tested with (what
each group must do with each record: :func:`poison_outcome`), around valid records made
from the producer's committed schema examples (:func:`example_bodies`); the integration
tier runs it against every consumed topic of every service.

Nothing here is imported by a service at run time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faststream.kafka import KafkaMessage, TestKafkaBroker
from sqlalchemy import MetaData, create_engine, func, select

from common.clock import Clock
from common.db import outbox
from common.envelope import Envelope
from common.events import Event, event_class
from common.inbox import raw_body
from common.migrations import upgrade
from common.runtime import Runtime, Subscription
from common.service import Service
from common.settings import ServiceSettings

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI


@dataclass(frozen=True)
class Record:
    """One message as a consumer of its topic sees it."""

    topic: str
    key: bytes
    headers: dict[str, str]
    body: bytes


def migrated_sqlite(service: Service[Any], folder: Path, name: str = "template.db") -> Path:
    """A SQLite file in ``folder`` migrated to the service's heads (once per session).

    Alembic's env calls ``asyncio.run``, so it runs in a thread of its own, off the
    test's event loop.
    """
    path = folder / name
    errors: list[BaseException] = []

    def migrate() -> None:
        try:
            upgrade(service.migrations, f"sqlite+aiosqlite:///{path}")
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=migrate)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return path


def sqlite_copy(template: Path, folder: Path, name: str = "service.db") -> str:
    """The database URL of a fresh copy of ``template`` (a test's own database)."""
    path = folder / name
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


def record_topics(runtime: Runtime, topics: Iterable[str]) -> dict[str, list[Record]]:
    """Subscribe a recorder to each topic (before the broker starts); their records."""
    records: dict[str, list[Record]] = {}
    for topic in topics:
        runtime.broker.subscriber(topic, group_id=f"test-recorder:{topic}", decoder=raw_body)(
            _recorder(records.setdefault(topic, []))
        )
    return records


def _recorder(sink: list[Record]) -> Callable[[bytes, KafkaMessage], Awaitable[None]]:
    # A closure, not a default argument: FastStream reads every parameter of a handler
    # as a field of the message.
    async def record(body: bytes, msg: KafkaMessage) -> None:
        raw = msg.raw_message
        assert not isinstance(raw, tuple)  # one record: the recorder is not a batch subscriber
        headers = {k: v.decode() for k, v in raw.headers}
        sink.append(Record(topic=raw.topic, key=raw.key, headers=headers, body=body))

    return record


@dataclass
class Running:
    """A service app running in-process for a test."""

    app: FastAPI
    client: httpx.AsyncClient
    records: dict[str, list[Record]] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def deliver(self, event: Event, *, ce_id: str | None = None) -> Envelope:
        """Publish ``event`` as its producer would (CloudEvents headers, keyed by its
        subject); the in-memory broker runs the subscribers before this returns."""
        context = event.name.split(".")[0]
        envelope = Envelope(
            type=event.ce_type(),
            source=f"/services/{context}",
            subject=event.subject(),
            time=self.runtime.clock.now(),
            **({"id": ce_id} if ce_id is not None else {}),
        )
        await self.runtime.broker.publish(
            event.to_json(),
            event.topic,
            key=event.subject().encode(),
            headers={k: v.decode() for k, v in envelope.headers()},
        )
        return envelope

    async def drain(self, timeout_s: float = 30.0) -> None:
        await drain(self.runtime, timeout_s)


async def drain(runtime: Runtime, timeout_s: float = 30.0) -> None:
    """Wait until the relay has published every outbox row (a bound, not a budget: on a
    loaded two-core machine a retried, dead-lettered event took over 5 s)."""
    async with asyncio.timeout(timeout_s):
        while True:
            async with runtime.sessionmaker() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                )
            if not pending:
                return
            await asyncio.sleep(0.01)


def schema_differences(database: Path, metadata: Sequence[MetaData]) -> list[Any]:
    """What Alembic's autogenerate finds between a migrated SQLite file and the declared
    tables (empty: the migrations build exactly what the code declares)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, list(metadata)))  # type: ignore[arg-type]
    finally:
        engine.dispose()


@asynccontextmanager
async def run_service(
    service: Service[Any],
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    record: Iterable[str] = (),
) -> AsyncIterator[Running]:
    """The service's real app on an in-memory broker, its lifespan running."""
    import httpx

    app = service.create_app(settings, clock=clock)
    records = record_topics(app.state.runtime, record)
    async with (
        TestKafkaBroker(app.state.runtime.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{service.name}.test"
        ) as client,
    ):
        yield Running(app=app, client=client, records=records)


# --------------------------------------------------------------------------- examples
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def committed_examples(event: type[Event], root: Path) -> list[dict[str, Any]]:
    """The ``examples`` of an event's committed schema (``schemas/<context>/<Name>.v<N>.json``
    under ``root``): what its producer promises to send, read by every consumer alike."""
    from common.contract import schema_path

    path = root / schema_path(event)
    examples = json.loads(path.read_text(encoding="utf-8")).get("examples") or []
    if not examples:
        raise AssertionError(f"{path} has no examples")
    return [dict(e) for e in examples]


def with_fresh_ids(value: Any, _ids: dict[str, str] | None = None) -> Any:
    """``value`` with every UUID in it replaced by a new one (the same UUID by the same
    new one, so an id repeated in an example stays one id)."""
    ids = {} if _ids is None else _ids
    if isinstance(value, str) and UUID_TEXT.match(value):
        return ids.setdefault(value.lower(), str(uuid.uuid4()))
    if isinstance(value, dict):
        return {k: with_fresh_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [with_fresh_ids(v, ids) for v in value]
    return value


def example_bodies(event: type[Event], root: Path) -> Callable[[], tuple[bytes, bytes]]:
    """A source of valid records of ``event``: (key, body) from its committed examples in
    turn, each with fresh ids; the key is the event's subject as ``event`` reads it."""
    examples = itertools.cycle(committed_examples(event, root))

    def make() -> tuple[bytes, bytes]:
        body = with_fresh_ids(next(examples))
        return event.model_validate(body).subject().encode(), json.dumps(body).encode()

    return make


# --------------------------------------------------------------------------- poison
HUGE_RECORD_BYTES = 900 * 1024
"""A body close to (under) Kafka's default largest record, 1 MiB (``message.max.bytes``):
its dead letter, with the ``dlq_*`` headers added, must still fit."""

OVERSIZED_HEADER_BYTES = 64 * 1024
LONG_CE_ID_CHARS = 100
"""A legal ``ce_id`` longer than the inbox's ``event_id`` column (64) and within the
envelope's limit (:data:`common.envelope.MAX_ID_LENGTH`)."""

NOT_UTF8 = b"\xff\xfe\x80 not text \xc3\x28"

Broken = Literal["envelope", "unknown-type", "unknown-version", "body", "nothing"]
Outcome = Literal["dead-letter", "apply", "skip"]


@dataclass(frozen=True)
class PoisonRecord:
    """One record of the poison catalogue (:func:`poison_records`).

    ``broken`` says what is wrong with it: ``envelope`` (its CloudEvents headers: any
    CloudEvents consumer dead-letters it, whatever types it reads), ``unknown-type`` (a
    well-formed type nobody defines), ``unknown-version`` (a version of a read event
    this code does not know), ``body`` (its body: a consumer that reads its type, or a
    plain feed, dead-letters it) or ``nothing``: odd but legal, and applied (binary in a
    header no consumer reads, a ``ce_id`` longer than 64 characters, a null key; and a
    valid record, ``case="valid"``). :func:`poison_outcome` turns that into what one
    consumer group must do with it.
    """

    case: str
    topic: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    broken: Broken
    ce_type: str | None
    """The type it claims (None: a plain feed's record, no CloudEvents type)."""
    ce_id: str | None = None
    """Its ``ce_id`` when that is text (how the inbox remembers it once applied)."""


def poison_records(
    topic: str,
    valid: Callable[[], tuple[bytes | None, bytes]],
    *,
    event: type[Event] | None = None,
    source: str = "/tests/poison",
) -> list[PoisonRecord]:
    """The poison catalogue for one topic, built around valid records of one type.

    ``valid`` makes a fresh valid (key, body) for ``event``, a type a consumer of the
    topic reads (:func:`example_bodies`); ``event`` None: the topic is a plain feed (JSON
    bodies, no CloudEvents), whose consumer reads bodies only, so a record whose only
    oddity is in its headers is valid there. Every record is built anew (fresh ids).
    """
    ce_type = event.ce_type() if event is not None else None
    name = event.name if event is not None else "feed.Entry"
    context = name.split(".", 1)[0]

    def build(
        case: str,
        broken: Broken,
        *,
        headers: Callable[[list[tuple[str, bytes]]], list[tuple[str, bytes]]] = list,
        body: bytes | Literal["valid"] | None = "valid",
        null_key: bool = False,
        ce_id: str | None = None,
    ) -> PoisonRecord:
        key, good = valid()
        envelope = (
            Envelope(
                type=ce_type,
                source=source,
                subject=(key or b"").decode(errors="replace"),
                id=ce_id or str(uuid.uuid4()),
            ).headers()
            if ce_type is not None
            else []
        )
        pairs = headers(envelope)
        claimed = dict(pairs)
        try:
            text_id = claimed["ce_id"].decode() if "ce_id" in claimed else None
        except UnicodeDecodeError:
            text_id = None
        return PoisonRecord(
            case=case,
            topic=topic,
            key=None if null_key else key,
            value=good if body == "valid" else body,
            headers=tuple(pairs),
            broken=broken,
            ce_type=ce_type and claimed.get("ce_type", b"").decode(errors="replace"),
            ce_id=text_id,
        )

    def setting(name: str, value: bytes) -> Callable[[list[tuple[str, bytes]]], Any]:
        def change(headers: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
            kept = [(k, v) for k, v in headers if k != name]
            return [*kept, (name, value)]

        return change

    def adding(*extra: tuple[str, bytes]) -> Callable[[list[tuple[str, bytes]]], Any]:
        return lambda headers: [*headers, *extra]

    # On a plain feed the CloudEvents headers are nobody's business: only bodies break.
    envelope_broken: Broken = "envelope" if event is not None else "nothing"
    _key, good = valid()
    wrong_types = json.dumps({field: [[[]]] for field in json.loads(good)}).encode()
    # Legal JSON text no PostgreSQL text column can hold (and CloudEvents forbids in a
    # ce_* attribute): it can never be applied, however often it is retried.
    nul_texts = json.dumps(_each_text(json.loads(good), lambda t: t + "\x00")).encode()
    vendor = ("x-vendor-trace", NOT_UTF8)
    return [
        build("ce_type-not-utf8", envelope_broken,
              headers=setting("ce_type", NOT_UTF8 + (ce_type or "").encode())),
        build("ce_id-not-utf8", envelope_broken,
              headers=setting("ce_id", NOT_UTF8 + uuid.uuid4().hex.encode())),
        build("vendor-header-not-utf8", "nothing", headers=adding(vendor)),
        build("vendor-header-not-utf8-bad-body", "body", headers=adding(vendor),
              body=b"{not json"),
        build("oversized-vendor-header", "nothing",
              headers=adding(("x-vendor-blob", b"a" * OVERSIZED_HEADER_BYTES))),
        build("oversized-ce_id", envelope_broken,
              headers=setting("ce_id", b"i" * OVERSIZED_HEADER_BYTES)),
        build("huge-record", "body",
              body=json.dumps({"padding": "x" * HUGE_RECORD_BYTES}).encode()),
        build("no-cloudevents-headers", envelope_broken,
              headers=lambda headers: [(k, v) for k, v in headers if not k.startswith("ce_")]),
        build("unknown-ce_type", "unknown-type" if event is not None else "nothing",
              headers=setting("ce_type", f"{context}.PoisonSuiteUnknown.v1".encode())),
        build("unknown-version", "unknown-version" if event is not None else "nothing",
              headers=setting("ce_type", f"{name}.v999".encode())),
        build("wrong-specversion", envelope_broken, headers=setting("ce_specversion", b"0.3")),
        build("body-not-json", "body", body=b"{not json"),
        build("body-not-utf8", "body", body=NOT_UTF8),
        build("json-not-an-object", "body", body=b"[1, 2, 3]"),
        build("missing-required-fields", "body", body=b'{"unexpected": true}'),
        build("wrong-field-types", "body", body=wrong_types),
        build("long-ce_id", "nothing", ce_id=f"{uuid.uuid4()}-".ljust(LONG_CE_ID_CHARS, "L")),
        build("ce_id-control-character", envelope_broken,
              headers=setting("ce_id", f"nul\x00{uuid.uuid4()}".encode())),
        build("nul-in-text-fields", "body", body=nul_texts),
        build("empty-body", "body", body=b""),
        build("null-body", "body", body=None),
        build("null-key", "nothing", null_key=True),
        build("null-key-bad-body", "body", body=b"{not json", null_key=True),
        build("repeated-header-name", "body", body=b"{not json",
              headers=adding(("x-vendor-hop", b"first"), ("x-vendor-hop", b"second"))),
    ]  # fmt: skip


def _each_text(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _each_text(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_text(v, change) for v in value]
    return value


def poison_outcome(record: PoisonRecord, subscription: Subscription) -> Outcome:
    """What consumer group ``subscription`` must do with ``record``, by the inbox's rules
    (:mod:`common.inbox`): ``dead-letter`` it (to ``<topic>.dlq``, naming the group),
    ``apply`` it (the inbox records its ``ce_id``) or ``skip`` it (neither).

    A plain feed reads bodies only. A CloudEvents consumer dead-letters a broken
    envelope whatever its type; otherwise what it does not read it skips on another
    context's topic (``foreign_topic``) and, on its own context's, skips a registered
    type and dead-letters one nobody registered (an unknown type or version).
    """
    plain = subscription.events is None
    if (record.ce_type is None) != plain:
        raise ValueError(f"{record.case} on {record.topic}: a CloudEvent for a plain feed?")
    if subscription.events is None:
        return "dead-letter" if record.broken == "body" else "apply"
    if record.broken == "envelope":
        return "dead-letter"
    ce_type = record.ce_type or ""
    if record.broken == "unknown-version" and ce_type.rsplit(".v", 1)[0] in {
        e.name for e in subscription.events
    }:
        return "dead-letter"
    if ce_type in {e.ce_type() for e in subscription.events}:
        return "dead-letter" if record.broken == "body" else "apply"
    if subscription.foreign_topic or event_class(ce_type) is not None:
        return "skip"
    return "dead-letter"
