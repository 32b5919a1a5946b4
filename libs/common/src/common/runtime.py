"""One service process: database, broker, outbox relay, timers, and their lifecycle.

``Runtime`` is built from settings by the service kit (``common.service``); tests build it
with an in-memory broker (``TestKafkaBroker``) and SQLite, or with real Kafka and
PostgreSQL, and the same wiring runs in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.clock import Clock, SystemClock
from common.db import is_postgres, make_engine, make_sessionmaker
from common.events import Event
from common.inbox import (
    BatchHandle,
    Handler,
    Inbox,
    publish_dead_letter,
    raw_body,
    retrying,
    safe_batch_parser,
)
from common.kafka_security import broker_security
from common.outbox import WAKE, OutboxRelay, Seal
from common.settings import ServiceSettings
from common.timers import TimerHandler, TimerWorker


def _aiokafka_producer(broker: KafkaBroker) -> AIOKafkaProducer | None:
    """The aiokafka producer of a connected FastStream broker; None if there is none
    (not connected, or FastStream's in-memory ``TestKafkaBroker``)."""
    state = getattr(broker.config.producer, "_producer", None)
    producer = getattr(state, "producer", None)
    return producer if isinstance(producer, AIOKafkaProducer) else None


def _done(value: object) -> Awaitable[object]:
    future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


class ConcurrentStartBroker(KafkaBroker):
    """A ``KafkaBroker`` whose subscribers start together rather than one after another.

    Starting a subscriber joins its consumer group, and a join waits on the group
    coordinator (Tansu holds every join for half the session timeout, 5 s): one after
    another, a service with six consumer groups was ready after 30 s, together after 5 s.
    """

    async def start(self) -> None:
        await self.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.subscribers))
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


@dataclass(frozen=True)
class Subscription:
    """One consumer group's subscription to a topic, as the service registered it.

    ``events``: the event classes the group's :class:`~common.inbox.Inbox` handles, and
    ``foreign_topic`` its setting; ``events`` is None when the handler is not an inbox's
    (a plain feed's batch handler, which records what it applied in its own tables).
    """

    topic: str
    group: str
    events: tuple[type[Event], ...] | None
    foreign_topic: bool = False


@dataclass
class Runtime:
    """Everything a service's handlers need, and the background loops it runs."""

    name: str
    settings: ServiceSettings
    clock: Clock
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    relay: OutboxRelay
    timer_handlers: dict[str, TimerHandler] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    """What :meth:`subscribe` registered, in order."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _timers: TimerWorker | None = None

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of this service's events."""
        return f"/services/{self.name}"

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Awaitable[object]:
        """Enqueue one record on the broker's producer; await the result for the ack."""
        decoded = {k: v.decode() for k, v in headers}
        result = await self.broker.publish(
            value,
            topic,
            key=key,
            headers=decoded,
            correlation_id=decoded.get("ce_correlationid"),
            no_confirm=True,
        )
        return result if inspect.isawaitable(result) else _done(result)

    async def send_record(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Awaitable[object]:
        """Enqueue one record exactly as given; await the result for the ack.

        :meth:`send` goes through FastStream's ``publish``, which takes the headers as a
        dict (of a repeated name only the last value is kept), adds its own
        (``correlation_id``, an empty ``content-type``) and sends a null key or value as
        empty. A dead letter must be the record as it came, so this hands it to the
        broker's aiokafka producer; FastStream's in-memory test broker has none, and
        there it goes through :meth:`send`.
        """
        producer = _aiokafka_producer(self.broker)
        if producer is None:
            return await self.send(topic, key or b"", value or b"", headers)
        future: Awaitable[object] = await producer.send(
            topic, value=value, key=key, headers=headers
        )
        return future

    async def dead_letter(
        self, record: Any, exc: BaseException, attempts: int, consumer: str
    ) -> None:
        """Send one consumer record to its dead-letter topic (see ``common.inbox``)."""
        await publish_dead_letter(self.send_record, record, exc, attempts, consumer)

    def inbox(
        self, group: str, handlers: Mapping[type[Event], Handler], *, foreign_topic: bool = False
    ) -> Inbox:
        """An :class:`Inbox` of consumer group ``group``, with the service's retry settings.

        ``foreign_topic``: the topic is another context's, whose other event types this
        service has no model for; they are skipped rather than dead-lettered.
        """
        return Inbox(
            group,
            self.sessionmaker,
            handlers,
            clock=self.clock,
            dead_letter=self.dead_letter,
            max_attempts=self.settings.consumer_max_attempts,
            backoff_s=self.settings.consumer_backoff_s,
            foreign_topic=foreign_topic,
        )

    def subscribe(
        self,
        topic: str,
        group: str,
        handle: BatchHandle,
        *,
        description: str,
        batch_size: int | None = None,
    ) -> None:
        """Consume ``topic`` in batches as consumer group ``group``.

        One database transaction and one offset commit per batch, the offset committed
        only after ``handle`` returned (``NACK_ON_ERROR``); failures retried, then
        dead-lettered with the group named (:func:`common.inbox.retrying`). A new group
        starts from the beginning of the topic.
        """
        inbox = getattr(handle, "__self__", None)
        self.subscriptions.append(
            Subscription(topic, group, inbox.event_types, inbox.foreign_topic)
            if isinstance(inbox, Inbox)
            else Subscription(topic, group, None)
        )
        self.broker.subscriber(
            topic,
            group_id=group,
            batch=True,
            max_records=batch_size or self.settings.consumer_batch_size,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=raw_body,
            parser=safe_batch_parser,
            fetch_min_bytes=self.settings.consumer_fetch_min_bytes,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_session_timeout_ms // 3,
            title=group,
            description=description,
        )(
            retrying(
                group,
                handle,
                dead_letter=self.dead_letter,
                max_attempts=self.settings.consumer_max_attempts,
                backoff_s=self.settings.consumer_backoff_s,
            )
        )

    async def start(self) -> None:
        await self.broker.start()
        if self.settings.run_relay:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.settings.run_timers and self.timer_handlers:
            self._timers = TimerWorker(
                self.sessionmaker,
                self.timer_handlers,
                self.clock,
                postgres=is_postgres(self.engine),
                poll_interval_s=self.settings.timer_poll_interval_s,
            )
            self._tasks.append(asyncio.create_task(self._timers.run(), name="timers"))

    async def stop(self) -> None:
        self.relay.stop()
        if self._timers is not None:
            self._timers.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks.clear()
        await self.broker.stop()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        """``ok`` or the error for the database and the broker."""
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {exc}"
        try:
            checks["broker"] = "ok" if await self.broker.ping(timeout=2.0) else "error: no answer"
        except Exception as exc:
            checks["broker"] = f"error: {exc}"
        return checks


def build_runtime(
    name: str,
    settings: ServiceSettings,
    *,
    clock: Clock | None = None,
    timer_handlers: Mapping[str, TimerHandler] | None = None,
    broker_options: Mapping[str, Any] | None = None,
    unseal: Seal | None = None,
) -> Runtime:
    """Wire a service's runtime from its settings (nothing is connected yet).

    ``unseal`` decrypts the outbox rows staged with ``seal`` (see :func:`common.outbox.stage`).
    """
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    holder: dict[str, Runtime] = {}

    async def send(
        topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
    ) -> Awaitable[object]:
        return await holder["runtime"].send(topic, key, value, headers)

    security = broker_security(settings)
    broker = ConcurrentStartBroker(
        settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=2,
        client_id=name,
        # SASL / TLS from the KAFKA_SECURITY_* settings (None: plaintext, no authentication).
        security=security,
        # FastStream creates a subscriber's topics when it starts. An authenticated service
        # must not try: its topics are declared (KafkaTopic), and its principal has no
        # Create right, so each attempt would log a misleading authorization failure.
        allow_auto_create_topics=security is None,
        # Per-message "Received/Processed" lines at DEBUG, through our structlog handler.
        logger=logging.getLogger("faststream"),
        log_level=logging.DEBUG,
        **dict(broker_options or {}),
    )
    sessionmaker = make_sessionmaker(engine)
    relay = OutboxRelay(
        sessionmaker,
        send,
        postgres=is_postgres(engine),
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
        linger_s=settings.outbox_linger_s,
        retention=timedelta(hours=settings.outbox_retention_hours),
        clock=clock,
        crash_after_publish=settings.fault_relay_crash_after_publish,
        unseal=unseal,
    )
    # Sessions from this maker wake the relay when they commit staged events.
    sessionmaker.configure(info={WAKE: relay.wake})
    runtime = Runtime(
        name=name,
        settings=settings,
        clock=clock,
        engine=engine,
        sessionmaker=sessionmaker,
        broker=broker,
        relay=relay,
        timer_handlers=dict(timer_handlers or {}),
    )
    holder["runtime"] = runtime
    return runtime
