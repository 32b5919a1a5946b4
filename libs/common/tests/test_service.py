"""The service kit: what a declared service derives (topics, AsyncAPI, CLI, app) and checks."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import ClassVar

import pytest
from fastapi import APIRouter
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from common.events import Event
from common.inbox import Inbox
from common.runtime import Runtime, Subscription, build_runtime
from common.service import Kit, Parts, Service, Topic
from common.settings import DEV_SECRET, ServiceSettings, parse_timezone


class KitSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SVCKIT_", extra="ignore")

    database_url: str = "sqlite+aiosqlite://"


class Shipped(Event):
    name: ClassVar[str] = "svckit.Shipped"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "svckit.events"

    parcel_id: str

    def subject(self) -> str:
        return self.parcel_id


class Delivered(Shipped):
    name: ClassVar[str] = "svckit.Delivered"


class RecipientRecorded(Event):
    name: ClassVar[str] = "svckit.RecipientRecorded"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "svckit.recipients.restricted"

    parcel_id: str
    recipient_name: str

    def subject(self) -> str:
        return self.parcel_id


class Stray(Event, context="kitother", topic="kitother.events"):
    """An event of another context: not on the kit test's topics."""


class StrayArrived(Stray, key="parcel_id"):
    parcel_id: str


WIRED: list[Kit[KitSettings]] = []


async def on_stray(*_: object) -> None:
    return None


def register_orders(runtime: Runtime, *, group: str) -> Inbox:
    inbox = runtime.inbox(group, {StrayArrived: on_stray}, foreign_topic=True)
    runtime.subscribe("kitother.events", group, inbox.handle_batch, description="strays")
    return inbox


def wire(kit: Kit[KitSettings]) -> Parts:
    WIRED.append(kit)
    router = APIRouter()

    @router.get("/parcels")
    async def parcels() -> list[str]:
        return []

    async def due(*_: object) -> None:
        return None

    return Parts(
        routers=[router],
        consumers=[partial(register_orders, group="svckit.strays")],
        timers={"parcel-due": due},
    )


def kit_service(**changes: object) -> Service[KitSettings]:
    fields: dict[str, object] = {
        "name": "svckit",
        "version": "1.2.3",
        "title": "Kit test service",
        "description": "A service declared for the kit's tests.",
        "settings": KitSettings,
        "migrations": Path("/nonexistent"),
        "topics": (
            Topic("svckit.events", "Public parcel events"),
            Topic("svckit.recipients.restricted", "Recipients", restricted=True),
        ),
        "wire": wire,
    }
    fields.update(changes)
    return Service(**fields)  # type: ignore[arg-type]


def test_each_topic_carries_the_events_of_the_service_on_it_in_definition_order() -> None:
    service = kit_service()
    public, restricted = service.topics
    assert service.events_on(public) == [Shipped, Delivered]
    assert service.events_on(restricted) == [RecipientRecorded]
    assert service.restricted_topics == {"svckit.recipients.restricted"}


def test_topics_are_the_published_the_consumed_and_the_consumed_dead_letter_topics() -> None:
    assert kit_service().topic_names() == (
        "svckit.events",
        "svckit.recipients.restricted",
        "kitother.events",
        "kitother.events.dlq",
    )


def test_the_kafka_usage_names_each_groups_topic_and_what_its_inbox_reads() -> None:
    (subscription,) = kit_service().kafka_usage().subscriptions
    assert subscription == Subscription(
        "kitother.events", "svckit.strays", (StrayArrived,), foreign_topic=True
    )

    async def plain_feed(_records: object) -> None:
        return None

    runtime = build_runtime("svckit", KitSettings())
    runtime.subscribe("feeds.parcels", "svckit.feed", plain_feed, description="a plain feed")
    assert runtime.subscriptions == [Subscription("feeds.parcels", "svckit.feed", None)]


def test_an_event_on_an_undeclared_topic_is_refused_at_build() -> None:
    service = kit_service(topics=(Topic("svckit.events", "Public parcel events"),))
    with pytest.raises(ValueError, match=r"svckit\.recipients\.restricted"):
        service.build()


def test_a_declared_topic_without_events_is_refused_at_build() -> None:
    topics = (*kit_service().topics, Topic("svckit.nothing", "empty"))
    with pytest.raises(ValueError, match=r"svckit.nothing but no event"):
        kit_service(topics=topics).build()


def test_the_kit_is_built_once_and_given_to_wire() -> None:
    WIRED.clear()
    built = kit_service().build()
    assert [built.kit] == WIRED
    kit = built.kit
    assert kit.runtime.clock is kit.clock is kit.publisher.clock
    assert kit.publisher.source == "/services/svckit"
    assert kit.publisher.sealed_topics == {"svckit.recipients.restricted"}
    assert set(kit.runtime.timer_handlers) == {"parcel-due"}


def test_restricted_payloads_are_sealed_with_the_settings_key_and_unsealed_by_the_relay() -> None:
    kit = kit_service().build(KitSettings(pii_key="k" * 40)).kit
    assert kit.publisher.seal is not None
    sealed = kit.publisher.seal(b'{"recipient_name": "Li Hua"}')
    assert b"Li Hua" not in sealed
    assert kit.cipher.unseal(sealed) == b'{"recipient_name": "Li Hua"}'
    other = kit_service().build(KitSettings(pii_key="o" * 40)).kit
    with pytest.raises(ValueError, match="could not be decrypted"):
        other.cipher.unseal(sealed)


def test_consumers_are_registered_only_when_the_settings_run_them() -> None:
    assert len(kit_service().build().runtime.broker.subscribers) == 1
    quiet = kit_service().build(KitSettings(run_consumers=False))
    assert list(quiet.runtime.broker.subscribers) == []


def test_the_asyncapi_document_has_every_published_and_consumed_channel() -> None:
    document = kit_service().asyncapi()
    assert document["info"]["title"] == "Kit test service"
    assert document["info"]["version"] == "1.2.3"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {"svckit.events", "svckit.recipients.restricted", "kitother.events"}
    assert {"Shipped", "Delivered", "RecipientRecorded"} <= set(document["components"]["schemas"])


def test_the_app_mounts_the_wired_routers_and_the_operations_routes() -> None:
    app = kit_service().create_app()
    assert {"/parcels", "/healthz", "/readyz", "/metrics"} <= set(app.openapi()["paths"])
    assert app.title == "Kit test service"


def test_the_command_line_prints_topics_and_asyncapi(capsys: pytest.CaptureFixture[str]) -> None:
    service = kit_service()
    assert service.cli(["topics"]) == 0
    assert capsys.readouterr().out.split() == list(service.topic_names())
    assert service.cli(["asyncapi"]) == 0
    assert json.loads(capsys.readouterr().out) == service.asyncapi()
    with pytest.raises(SystemExit):
        service.cli(["no-such-command"])


def test_pii_keys_must_be_set_in_prod() -> None:
    with pytest.raises(ValidationError, match="pii_key and pii_hash_key"):
        KitSettings(environment="prod", jwt_secret="j" * 40, pii_key="k" * 40)
    settings = KitSettings(
        environment="prod", jwt_secret="j" * 40, pii_key="k" * 40, pii_hash_key="h" * 40
    )
    assert DEV_SECRET not in settings.pii_hash_key.get_secret_value()


def test_a_clock_offset_moves_the_services_clock_ahead_and_is_refused_in_prod() -> None:
    ahead = KitSettings(clock_offset_s=4 * 86_400).clock()
    wall = KitSettings().clock()

    gap = ahead.now() - wall.now()
    assert timedelta(days=4) - timedelta(seconds=5) < gap <= timedelta(days=4)
    with pytest.raises(ValidationError, match="clock_offset_s"):
        KitSettings(environment="prod", jwt_secret="j" * 40, pii_key="k" * 40,
                    pii_hash_key="h" * 40, clock_offset_s=60)  # fmt: skip


def test_the_office_time_zone_is_an_iana_name_or_a_fixed_offset() -> None:
    assert str(KitSettings().timezone()) == "Asia/Shanghai"
    assert parse_timezone("+08:00").utcoffset(None).total_seconds() == 8 * 3600  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="unknown time zone"):
        KitSettings(office_timezone="Mars/Olympus")
