"""A service is a declaration: what it publishes, how its parts are wired, and its migrations.

A service's ``main.py`` declares one :class:`Service`: its name, settings class, the
topics it publishes (the event classes on each, restricted ones marked), its
migrations, and a ``wire`` function. The kit builds the shared dependencies once (a
:class:`Kit`: settings, clock, runtime, PII cipher, the publisher) and hands them to
``wire``, which builds the service's own handlers and returns its :class:`Parts`:
routers, consumer registrations and timers. Everything else is derived here:

- the app factory (``create_app``), for ``serve`` and for the tests;
- the events on each topic (the service's event classes, by their ``topic``) and the
  AsyncAPI document (publishers from them, subscribers from the consumers ``wire``
  registered);
- the topic list (published, consumed, and the consumed topics' dead-letter topics);
- the command line: ``serve``, ``migrate``, ``topics``, ``asyncapi`` and the service's
  own commands.

The shape is cosmicpython's ``bootstrap`` (dependencies built once in one place and
injected into handlers, the same wiring for the process and the tests) with
FastStream's and FastAPI's own registration (a consumer is a subscriber on the broker,
a route a router) rather than a framework of our own over them.
"""

from __future__ import annotations

import argparse
import functools
import operator
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from fastapi import APIRouter, FastAPI
from faststream.kafka.subscriber.usecase import LogicSubscriber

from common.clock import Clock
from common.events import Event, registered_events
from common.http import asyncapi_document, create_service_app
from common.inbox import DLQ_SUFFIX
from common.logging import configure_logging
from common.pii import PiiCipher
from common.publisher import Publisher
from common.runtime import Runtime, Subscription, build_runtime
from common.settings import ServiceSettings
from common.timers import TimerHandler

S = TypeVar("S", bound=ServiceSettings)

# The settings the contract documents are generated with: nothing from the environment.
CONTRACT_DATABASE_URL = "sqlite+aiosqlite://"
CONTRACT_BOOTSTRAP_SERVERS = "kafka:9092"


@dataclass(frozen=True)
class Topic:
    """A topic the service publishes to.

    Its events are the service's event classes whose ``topic`` is this one, in the order
    they are defined (see :meth:`Service.events_on`). ``restricted``: they carry personal
    data; they are sealed (encrypted) in the outbox table until the relay sends them, and
    only entitled principals may read the topic.
    """

    name: str
    description: str
    restricted: bool = False


@dataclass(frozen=True)
class Kit(Generic[S]):
    """What every part of a service shares, built once per process (or per test app)."""

    settings: S
    clock: Clock
    runtime: Runtime
    cipher: PiiCipher
    publisher: Publisher


Consumer = Callable[[Runtime], object]
"""Registers one or more subscribers on ``runtime`` (e.g. ``register_consumers``)."""


@dataclass(frozen=True)
class Parts:
    """What ``wire`` built: mounted, registered and started by the kit.

    ``routers`` are mounted in order (a literal path before a ``{param}`` that would take
    it). ``consumers`` are registered only when the settings run consumers.
    """

    routers: Sequence[APIRouter] = ()
    consumers: Sequence[Consumer] = ()
    timers: Mapping[str, TimerHandler] = field(default_factory=dict)
    on_startup: Callable[[], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Built(Generic[S]):
    kit: Kit[S]
    parts: Parts

    @property
    def runtime(self) -> Runtime:
        return self.kit.runtime


@dataclass(frozen=True)
class KafkaUsage:
    """A service's use of Kafka: it writes ``published`` (its declared topics) and the
    dead letters of what it consumes (``<topic>.dlq``, see :mod:`common.inbox`); it reads
    ``consumed`` in the consumer ``groups`` (each named ``<service>.<purpose>``)."""

    published: tuple[str, ...]
    consumed: tuple[str, ...]
    groups: tuple[str, ...]
    subscriptions: tuple[Subscription, ...] = ()
    """Which group reads which topic, and what its inbox handles (see :class:`Subscription`)."""

    @property
    def dead_letters(self) -> tuple[str, ...]:
        return tuple(t + DLQ_SUFFIX for t in self.consumed)


@dataclass(frozen=True)
class Command(Generic[S]):
    """A service's own command-line command (``python -m <service> <name>``)."""

    help: str
    run: Callable[[argparse.Namespace, S], int]
    arguments: Callable[[argparse.ArgumentParser], object] = lambda _parser: None


@dataclass(frozen=True)
class Service(Generic[S]):
    """One deployable service, declared."""

    name: str
    version: str
    title: str
    description: str
    settings: type[S]
    migrations: Path
    topics: tuple[Topic, ...]
    wire: Callable[[Kit[S]], Parts]
    commands: Mapping[str, Command[S]] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The CloudEvents ``source`` of its events."""
        return f"/services/{self.name}"

    @property
    def restricted_topics(self) -> frozenset[str]:
        return frozenset(t.name for t in self.topics if t.restricted)

    def events(self) -> list[type[Event]]:
        """The event classes of this service's context, in the order they are defined."""
        return [
            model
            for model in registered_events().values()
            if model.name.split(".", 1)[0] == self.name
        ]

    def events_on(self, topic: Topic) -> list[type[Event]]:
        return [model for model in self.events() if model.topic == topic.name]

    def _check_topics(self) -> None:
        declared = {t.name for t in self.topics}
        for model in self.events():
            if model.topic not in declared:
                raise ValueError(
                    f"{model.ce_type()} is published on {model.topic}, which {self.name} "
                    f"does not declare (Service.topics: {sorted(declared)})"
                )
        for topic in self.topics:
            if not self.events_on(topic):
                raise ValueError(
                    f"{self.name} declares {topic.name} but no event of it is published "
                    "there (is its events module imported by the service's main?)"
                )

    def build(self, settings: S | None = None, *, clock: Clock | None = None) -> Built[S]:
        """Build the kit and the service's parts (nothing is connected yet)."""
        settings = settings if settings is not None else self.settings()
        clock = clock or settings.clock()
        cipher = PiiCipher(
            settings.pii_key.get_secret_value(), settings.pii_hash_key.get_secret_value()
        )
        runtime = build_runtime(self.name, settings, clock=clock, unseal=cipher.unseal)
        publisher = Publisher.of(
            self.source, clock, seal=cipher.seal, sealed_topics=self.restricted_topics
        )
        kit = Kit(settings, clock, runtime, cipher, publisher)
        self._check_topics()
        for topic in self.topics:
            # Documented in the AsyncAPI document; the events are sent by the outbox relay.
            runtime.broker.publisher(
                topic.name,
                title=topic.name,
                schema=functools.reduce(operator.or_, self.events_on(topic)),
                description=topic.description,
            )
        parts = self.wire(kit)
        runtime.timer_handlers.update(parts.timers)
        if settings.run_consumers:
            for register in parts.consumers:
                register(runtime)
        return Built(kit, parts)

    def create_app(self, settings: S | None = None, *, clock: Clock | None = None) -> FastAPI:
        built = self.build(settings, clock=clock)
        return create_service_app(
            built.runtime,
            title=self.title,
            version=self.version,
            description=self.description,
            routers=built.parts.routers,
            on_startup=built.parts.on_startup,
        )

    def _contract_build(self) -> Built[S]:
        settings = self.settings(
            database_url=CONTRACT_DATABASE_URL,
            kafka_bootstrap_servers=CONTRACT_BOOTSTRAP_SERVERS,
            run_consumers=True,
        )
        return self.build(settings)

    def kafka_usage(self) -> KafkaUsage:
        """What it does on Kafka, from its declaration and its consumers' registrations:
        what its ACLs grant, what its topics are (see :class:`KafkaUsage`)."""
        runtime = self._contract_build().runtime
        consumed: list[str] = []
        groups: list[str] = []
        for subscriber in runtime.broker.subscribers:
            assert isinstance(subscriber, LogicSubscriber)  # a Kafka broker's subscriber
            consumed += subscriber.topic_names
            groups.append(str(subscriber.group_id))
        return KafkaUsage(
            published=tuple(t.name for t in self.topics),
            consumed=tuple(dict.fromkeys(consumed)),
            groups=tuple(dict.fromkeys(groups)),
            subscriptions=tuple(runtime.subscriptions),
        )

    def topic_names(self) -> tuple[str, ...]:
        """Every topic it needs: published, consumed, and each consumed topic's DLQ."""
        usage = self.kafka_usage()
        names = [*usage.published]
        for topic in usage.consumed:
            names += [topic, topic + DLQ_SUFFIX]
        return tuple(dict.fromkeys(names))

    def asyncapi(self) -> dict[str, Any]:
        """Its AsyncAPI document (committed as ``schemas/<name>/asyncapi.json``)."""
        runtime = self._contract_build().runtime
        document = asyncapi_document(
            runtime, title=self.title, version=self.version, description=self.description
        )
        result: dict[str, Any] = document.to_jsonable()
        return result

    def cli(self, argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(
            prog=f"python -m {self.name}", description=self.description
        )
        sub = parser.add_subparsers(dest="command", required=True)
        serve = sub.add_parser("serve", help="run the HTTP API, the outbox relay and the consumers")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8000)
        serve.add_argument("--migrate", action="store_true", help="migrate the database first")
        sub.add_parser("migrate", help="upgrade the database to the latest migration")
        sub.add_parser("topics", help="print the Kafka topics this service needs")
        sub.add_parser("asyncapi", help="print the AsyncAPI document of its events")
        for name, command in self.commands.items():
            command.arguments(sub.add_parser(name, help=command.help))
        args = parser.parse_args(argv)

        if args.command == "topics":
            print("\n".join(self.topic_names()))
            return 0
        if args.command == "asyncapi":
            from common.contract import render

            sys.stdout.write(render(self.asyncapi()))
            return 0
        settings = self.settings()
        if args.command in self.commands:
            return self.commands[args.command].run(args, settings)
        configure_logging(self.name, settings.log_level, json=settings.log_json)
        if args.command == "migrate" or args.migrate:
            from common.migrations import upgrade

            upgrade(self.migrations, settings.database_url)
            if args.command == "migrate":
                return 0
        import uvicorn

        uvicorn.run(
            self.create_app(settings),
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            limit_concurrency=settings.http_limit_concurrency,
        )
        return 0
