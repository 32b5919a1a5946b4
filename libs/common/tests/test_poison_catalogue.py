"""The poison catalogue (``common.testing.poison_records``) and the fixes it led to.

The integration tier runs the catalogue against every consumed topic of every service,
on real Kafka and PostgreSQL (``tests/integration/test_poison_records.py``). Here each
catalogue goes through the kit's :class:`Inbox` in process (SQLite, one batch) to hold
the expectations (``poison_outcome``) to the inbox's rules; and what the suite found is
pinned down: a legal ``ce_id`` longer than the inbox column is remembered (hashed), a
value the database refuses is poison at once, a ``ce_id`` with a control character is
refused, and a dead letter is the record as it came.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.clock import FakeClock
from common.db import inbox, is_data_error, make_engine, make_sessionmaker, runtime_metadata
from common.envelope import Envelope, EnvelopeError
from common.events import Event
from common.inbox import INBOX_ID_LENGTH, Inbox, PoisonMessage, inbox_key, publish_dead_letter
from common.runtime import Subscription
from common.testing import PoisonRecord, poison_outcome, poison_records

TOPIC = "poisontest.events"


class PoisonTestEvent(Event, context="poisontest", topic=TOPIC):
    pass


class ParcelWeighed(PoisonTestEvent, key="parcel_id"):
    parcel_id: str
    grams: int


class ParcelLabelled(PoisonTestEvent, key="parcel_id"):
    parcel_id: str
    label: str


class FakePgError(Exception):
    """What asyncpg raises, as far as :func:`is_data_error` looks: a SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def db_error(sqlstate: str) -> DBAPIError:
    return DBAPIError("INSERT INTO parcels ...", {}, FakePgError(sqlstate))


def weighed() -> tuple[bytes | None, bytes]:
    parcel = str(uuid.uuid4())
    return parcel.encode(), json.dumps({"parcel_id": parcel, "grams": 250}).encode()


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/poison.db")
    async with engine.begin() as conn:
        await conn.run_sync(runtime_metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


class Dlq:
    def __init__(self) -> None:
        self.letters: dict[int, tuple[str, int]] = {}

    async def __call__(self, rec: Any, exc: BaseException, attempts: int, consumer: str) -> None:
        self.letters[rec.offset] = (type(exc).__name__, attempts)


async def store(_session: AsyncSession, event: Any, _envelope: Envelope) -> None:
    """Store the event as PostgreSQL would: a NUL in its text is a data exception."""
    if any("\x00" in str(value) for value in event.model_dump().values()):
        raise db_error("22021")  # character_not_in_repertoire


def consumer_record(record: PoisonRecord, offset: int) -> ConsumerRecord:
    return ConsumerRecord(
        topic=record.topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=record.key,
        value=record.value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=list(record.headers),
    )


async def remembered(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[str, str]]:
    async with sessions() as session:
        return {(r.consumer, r.event_id) for r in await session.execute(select(inbox))}


@pytest.mark.parametrize(
    ("reads", "foreign_topic"),
    [((ParcelWeighed,), False), ((ParcelWeighed,), True), ((ParcelLabelled,), False)],
    ids=["reader-own-topic", "reader-foreign-topic", "other-type-own-topic"],
)
async def test_the_inbox_does_with_each_record_what_the_catalogue_expects(
    sessions: async_sessionmaker[AsyncSession],
    reads: tuple[type[Event], ...],
    foreign_topic: bool,
) -> None:
    dlq = Dlq()
    group = "poisontest.weights"
    consumer = Inbox(
        group,
        sessions,
        dict.fromkeys(reads, store),
        clock=FakeClock(),
        dead_letter=dlq,
        max_attempts=3,
        backoff_s=0,
        foreign_topic=foreign_topic,
    )
    catalogue = poison_records(TOPIC, weighed, event=ParcelWeighed)
    assert len({r.case for r in catalogue}) == len(catalogue)

    await consumer.handle_batch([consumer_record(r, n) for n, r in enumerate(catalogue)])

    rows = await remembered(sessions)
    subscription = Subscription(TOPIC, group, consumer.event_types, consumer.foreign_topic)
    seen: dict[str, str] = {}
    for offset, record in enumerate(catalogue):
        applied = record.ce_id is not None and (group, inbox_key(record.ce_id)) in rows
        letter = dlq.letters.get(offset)
        if letter is not None:
            assert letter[1] == 1, f"{record.case}: a poison retried ({letter})"
        seen[record.case] = (
            "dead-letter" if letter else "apply" if applied else "skip"
        )  # fmt: skip
    assert seen == {r.case: poison_outcome(r, subscription) for r in catalogue}


def test_a_plain_feed_dead_letters_bad_bodies_and_applies_the_rest() -> None:
    feed = Subscription("feeds.parcels", "poisontest.feed", None)
    catalogue = poison_records("feeds.parcels", weighed)
    outcomes = {r.case: poison_outcome(r, feed) for r in catalogue}
    assert outcomes["body-not-json"] == outcomes["null-body"] == "dead-letter"
    assert outcomes["ce_type-not-utf8"] == outcomes["no-cloudevents-headers"] == "apply"
    with pytest.raises(ValueError, match="plain feed"):
        poison_outcome(poison_records(TOPIC, weighed, event=ParcelWeighed)[0], feed)


def test_an_id_longer_than_the_inbox_column_is_remembered_by_its_hash() -> None:
    assert INBOX_ID_LENGTH == 64
    short, exact = str(uuid.uuid4()), "x" * 64
    assert inbox_key(short) == short and inbox_key(exact) == exact
    long_id = "L" * 200
    key = inbox_key(long_id)
    assert key.startswith("sha256:") and len(key) == 64
    assert key == inbox_key(long_id) != inbox_key("L" * 199)
    # No id is remembered as another's hash: one that looks like a hash is hashed too.
    assert inbox_key(key) != key


async def test_a_long_ce_id_is_applied_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    dlq = Dlq()
    consumer = Inbox(
        "poisontest.weights", sessions, {ParcelWeighed: store},
        clock=FakeClock(), dead_letter=dlq, max_attempts=3, backoff_s=0,
    )  # fmt: skip
    long_id = f"{uuid.uuid4()}-".ljust(150, "L")
    key, body = weighed()
    headers = Envelope(type=ParcelWeighed.ce_type(), source="/t", subject="p", id=long_id)
    record = PoisonRecord("long", TOPIC, key, body, tuple(headers.headers()), "nothing", None)

    first = await consumer.handle_batch([consumer_record(record, 0)])
    again = await consumer.handle_batch([consumer_record(record, 1)])

    assert (first, again) == ({"applied": 1}, {"duplicate": 1})
    assert await remembered(sessions) == {("poisontest.weights", inbox_key(long_id))}
    assert dlq.letters == {}


def test_a_data_exception_is_a_value_the_database_refuses() -> None:
    assert is_data_error(db_error("22001"))  # string_data_right_truncation
    assert is_data_error(db_error("22021"))  # character_not_in_repertoire
    assert not is_data_error(db_error("40001"))  # serialization_failure: retry it
    assert not is_data_error(RuntimeError("22001"))


@pytest.mark.parametrize(("sqlstate", "attempts"), [("22001", 1), ("40001", 3)])
async def test_a_refused_value_is_dead_lettered_at_once_and_a_conflict_retried(
    sessions: async_sessionmaker[AsyncSession], sqlstate: str, attempts: int
) -> None:
    dlq = Dlq()

    async def failing(*_: object) -> None:
        raise db_error(sqlstate)

    consumer = Inbox(
        "poisontest.weights", sessions, {ParcelWeighed: failing},
        clock=FakeClock(), dead_letter=dlq, max_attempts=3, backoff_s=0,
    )  # fmt: skip
    valid = next(
        r for r in poison_records(TOPIC, weighed, event=ParcelWeighed) if r.case == "null-key"
    )

    assert await consumer.handle_batch([consumer_record(valid, 7)]) == {"dead_lettered": 1}
    assert dlq.letters == {7: ("DBAPIError", attempts)}


def test_a_ce_id_with_a_control_character_is_not_a_cloud_event() -> None:
    good = Envelope(type=ParcelWeighed.ce_type(), source="/t", subject="p", id="a\x00b")
    with pytest.raises(EnvelopeError, match="control character"):
        Envelope.from_headers(good.headers())
    tab = Envelope(type=ParcelWeighed.ce_type(), source="/t", subject="p", id="a\tb")
    with pytest.raises(EnvelopeError, match="control character"):
        Envelope.from_headers(tab.headers())


async def test_a_dead_letter_is_the_record_as_it_came() -> None:
    sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []

    async def send(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any:
        sent.append((topic, key, value, headers))
        return asyncio.sleep(0)

    headers = [("ce_id", b"e1"), ("x-hop", b"first"), ("x-bin", b"\xfe"), ("x-hop", b"second")]
    tombstone = PoisonRecord("t", TOPIC, b"k1", None, tuple(headers), "body", None)
    keyless = PoisonRecord("k", TOPIC, None, b"{}", (), "body", None)
    for n, record in enumerate((tombstone, keyless)):
        await publish_dead_letter(send, consumer_record(record, n), PoisonMessage("x"), 1, "g")

    (topic, key, value, first), (_, no_key, body, _) = sent
    assert (topic, key, value) == (TOPIC + ".dlq", b"k1", None)
    assert (no_key, body) == (None, b"{}")
    assert [h for h in first if not h[0].startswith("dlq_")] == [
        ("ce_id", b"e1"), ("x-hop", b"first"), ("x-bin", b"fe"), ("x-hop", b"second"),
    ]  # fmt: skip
    assert dict(first)["dlq_hex_headers"] == b"x-bin"
