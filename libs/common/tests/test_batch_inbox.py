"""The batch inbox: one transaction per batch, exactly once, poison and failures isolated."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiokafka import ConsumerRecord
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.clock import FakeClock
from common.db import make_engine, make_sessionmaker, runtime_metadata
from common.envelope import Envelope
from common.events import Event
from common.inbox import Inbox, PoisonMessage, publish_dead_letter, safe_batch_parser, text_headers

tallies_md = MetaData()
tallies = Table(
    "tallies", tallies_md, Column("id", Integer, primary_key=True), Column("entry", String(200))
)


class ParcelScanned(Event):
    name: ClassVar[str] = "batchtest.ParcelScanned"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "batchtest.events"

    parcel_id: str

    def subject(self) -> str:
        return self.parcel_id


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/batch.db")
    async with engine.begin() as conn:
        await conn.run_sync(runtime_metadata.create_all)
        await conn.run_sync(tallies_md.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()


def record(parcel: str, *, ce_id: str, offset: int = 0, poison: bool = False) -> ConsumerRecord:
    event = ParcelScanned(parcel_id=parcel)
    headers = Envelope(type=event.ce_type(), source="/tests", subject=parcel, id=ce_id).headers()
    return ConsumerRecord(
        topic="batchtest.events",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=parcel.encode(),
        value=b"{oops" if poison else event.to_json(),
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=headers,
    )


class Dlq:
    def __init__(self) -> None:
        self.records: list[tuple[Any, str, int]] = []
        self.consumers: set[str] = set()

    async def __call__(self, rec: Any, exc: BaseException, attempts: int, consumer: str) -> None:
        self.records.append((rec, type(exc).__name__, attempts))
        self.consumers.add(consumer)


def make_inbox(
    sessions: async_sessionmaker[AsyncSession],
    dlq: Dlq,
    *,
    fail_on: str = "",
    foreign_topic: bool = False,
) -> Inbox:
    async def tally(session: AsyncSession, event: Any, envelope: Envelope) -> None:
        if event.parcel_id == fail_on:
            raise RuntimeError("handler broke")
        await session.execute(insert(tallies).values(entry=f"{envelope.id}:{event.parcel_id}"))

    return Inbox(
        "tally",
        sessions,
        {ParcelScanned: tally},
        clock=FakeClock(),
        dead_letter=dlq,
        max_attempts=2,
        backoff_s=0,
        foreign_topic=foreign_topic,
    )


async def entries(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.scalars(select(tallies.c.entry).order_by(tallies.c.id))).all())


async def test_a_batch_is_applied_once_and_a_redelivered_batch_is_all_duplicates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dlq = Dlq()
    inbox = make_inbox(sessions, dlq)
    batch = [record(f"p{i}", ce_id=f"e{i}", offset=i) for i in range(50)]

    first = await inbox.handle_batch(batch)
    again = await inbox.handle_batch(batch)

    assert first == {"applied": 50}
    assert again == {"duplicate": 50}
    assert await entries(sessions) == [f"e{i}:p{i}" for i in range(50)]
    assert dlq.records == []


async def test_the_same_event_twice_in_one_batch_is_applied_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    inbox = make_inbox(sessions, Dlq())

    outcome = await inbox.handle_batch([record("p1", ce_id="e1"), record("p1", ce_id="e1")])

    assert outcome == {"applied": 1, "duplicate": 1}
    assert await entries(sessions) == ["e1:p1"]


async def test_poison_in_a_batch_is_dead_lettered_and_the_rest_applied(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dlq = Dlq()
    inbox = make_inbox(sessions, dlq)

    outcome = await inbox.handle_batch(
        [
            record("p1", ce_id="e1"),
            record("p2", ce_id="e2", offset=1, poison=True),
            record("p3", ce_id="e3", offset=2),
        ]
    )

    assert outcome == {"applied": 2, "dead_lettered": 1}
    assert await entries(sessions) == ["e1:p1", "e3:p3"]
    assert [(r.offset, kind, n) for r, kind, n in dlq.records] == [(1, "PoisonMessage", 1)]
    assert dlq.consumers == {"tally"}


async def test_a_failing_handler_sends_only_its_record_to_the_dlq_after_retries(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dlq = Dlq()
    inbox = make_inbox(sessions, dlq, fail_on="p2")

    outcome = await inbox.handle_batch(
        [record(f"p{i}", ce_id=f"e{i}", offset=i) for i in range(1, 4)]
    )

    assert outcome == {"applied": 2, "dead_lettered": 1}
    assert await entries(sessions) == ["e1:p1", "e3:p3"]
    assert [(r.offset, kind, n) for r, kind, n in dlq.records] == [(2, "RuntimeError", 2)]


def typed(record_: ConsumerRecord, ce_type: str) -> ConsumerRecord:
    """The record with another ``ce_type`` header."""
    headers = [(k, ce_type.encode() if k == "ce_type" else v) for k, v in record_.headers]
    return dataclasses.replace(record_, headers=headers)


@pytest.mark.parametrize("foreign_topic", [False, True])
async def test_unknown_types_are_poison_on_an_own_topic_and_skipped_on_a_foreign_one(
    sessions: async_sessionmaker[AsyncSession], foreign_topic: bool
) -> None:
    dlq = Dlq()
    inbox = make_inbox(sessions, dlq, foreign_topic=foreign_topic)

    outcome = await inbox.handle_batch(
        [
            record("p1", ce_id="e1"),
            typed(record("p2", ce_id="e2", offset=1), "batchtest.ParcelWeighed.v1"),
            # A version of the very event this inbox handles is never skipped.
            typed(record("p3", ce_id="e3", offset=2), "batchtest.ParcelScanned.v7"),
        ]
    )

    assert await entries(sessions) == ["e1:p1"]
    if foreign_topic:
        assert outcome == {"applied": 1, "ignored": 1, "dead_lettered": 1}
        assert [r.offset for r, _kind, _n in dlq.records] == [2]
    else:
        assert outcome == {"applied": 1, "dead_lettered": 2}
        assert [r.offset for r, _kind, _n in dlq.records] == [1, 2]


async def test_a_record_whose_ce_headers_are_not_text_is_dead_lettered_and_the_rest_applied(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dlq = Dlq()
    inbox = make_inbox(sessions, dlq)
    binary = record("p2", ce_id="e2", offset=1)
    binary = dataclasses.replace(
        binary, headers=[(k, b"\xff" if k == "ce_type" else v) for k, v in binary.headers]
    )
    vendor = record("p3", ce_id="e3", offset=2)
    vendor = dataclasses.replace(vendor, headers=[*vendor.headers, ("x-sig", b"\x80\x81")])

    outcome = await inbox.handle_batch([record("p1", ce_id="e1"), binary, vendor])

    assert outcome == {"applied": 2, "dead_lettered": 1}
    assert await entries(sessions) == ["e1:p1", "e3:p3"]
    assert [(r.offset, error) for r, error, _ in dlq.records] == [(1, "PoisonMessage")]


def test_text_headers_hex_encode_what_is_not_utf8_and_say_which() -> None:
    headers, hexed = text_headers([("a", b"ok"), ("b", b"\xff\x00"), ("c", "caf\u00e9".encode())])
    assert headers == [("a", b"ok"), ("b", b"ff00"), ("c", "caf\u00e9".encode())]
    assert hexed == ["b"]


async def test_the_batch_parser_survives_binary_headers_and_keeps_the_raw_records() -> None:
    from faststream.kafka.message import KafkaMessage
    from faststream.kafka.parser import AioKafkaBatchParser

    parser = AioKafkaBatchParser(msg_class=KafkaMessage, regex=None)
    raw = record("p1", ce_id="e1")
    raw = dataclasses.replace(raw, headers=[*raw.headers, ("x-sig", b"\xfe")])
    with pytest.raises(UnicodeDecodeError):
        await parser.parse_batch((raw,))

    message = await safe_batch_parser((raw,), parser.parse_batch)

    assert message.raw_message == (raw,)
    assert message.batch_headers[0]["x-sig"] == "fe"


async def test_a_dead_letter_keeps_binary_headers_hex_encoded() -> None:
    sent: list[tuple[str, list[tuple[str, bytes]]]] = []

    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        sent.append((topic, headers))
        return asyncio.sleep(0)

    raw = record("p1", ce_id="e1")
    raw = dataclasses.replace(raw, headers=[*raw.headers, ("x-sig", b"\xfe")])
    await publish_dead_letter(send, raw, PoisonMessage("bad"), 1, "tally")

    ((topic, headers),) = sent
    as_dict = dict(headers)
    assert topic == "batchtest.events.dlq"
    assert as_dict["x-sig"] == b"fe" and as_dict["dlq_hex_headers"] == b"x-sig"
    assert as_dict["ce_id"] == b"e1"
