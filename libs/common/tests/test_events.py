"""Versioned integration events: CloudEvents type names and the type registry."""

from __future__ import annotations

import re
from typing import ClassVar

import pytest

from common.events import CE_TYPE, Event, event_class, registered_events, split_ce_type


class Parcel(Event):
    """A test event (registered under the ``eventstest`` context)."""

    name: ClassVar[str] = "eventstest.ParcelShipped"
    version: ClassVar[int] = 2
    topic: ClassVar[str] = "eventstest.events"

    parcel_id: str

    def subject(self) -> str:
        return self.parcel_id


class ParcelWithNote(Parcel):
    """A subclass that does not set ``name`` keeps its parent's type, unregistered."""

    note: str | None = None


def test_ce_type_is_context_name_and_version() -> None:
    assert Parcel.ce_type() == "eventstest.ParcelShipped.v2"
    assert CE_TYPE.match(Parcel.ce_type())


def test_a_defined_event_is_found_by_its_ce_type() -> None:
    assert event_class("eventstest.ParcelShipped.v2") is Parcel
    assert registered_events()["eventstest.ParcelShipped.v2"] is Parcel


def test_an_unknown_type_or_version_is_not_found() -> None:
    assert event_class("eventstest.ParcelShipped.v1") is None
    assert event_class("eventstest.Nothing.v2") is None


def test_a_subclass_without_its_own_name_is_not_registered_again() -> None:
    assert event_class(ParcelWithNote.ce_type()) is Parcel


def test_registered_events_is_a_copy() -> None:
    snapshot = registered_events()
    snapshot.clear()

    assert event_class("eventstest.ParcelShipped.v2") is Parcel


def test_defining_the_same_type_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="defined twice"):

        class AnotherParcel(Event):
            name: ClassVar[str] = "eventstest.ParcelShipped"
            version: ClassVar[int] = 2
            topic: ClassVar[str] = "eventstest.events"

    assert event_class("eventstest.ParcelShipped.v2") is Parcel


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("NoContext", 1),  # no "<context>." prefix
        ("eventstest.lowercase", 1),  # event name must be PascalCase
        ("Eventstest.Thing", 1),  # context must be lowercase
        ("eventstest.Thing", 0),  # versions start at 1
    ],
)
def test_a_malformed_type_name_is_rejected_at_definition(name: str, version: int) -> None:
    with pytest.raises(ValueError, match=re.escape("is not <context>.<Name>.v<N>")):
        type(
            "Malformed",
            (Event,),
            {
                "__annotations__": {"name": "ClassVar[str]", "version": "ClassVar[int]"},
                "name": name,
                "version": version,
                "topic": "eventstest.events",
            },
        )

    assert event_class(f"{name}.v{version}") is None


def test_to_json_is_the_model_json_and_subject_is_the_aggregate_id() -> None:
    event = Parcel(parcel_id="p-7")

    assert Parcel.model_validate_json(event.to_json()) == event
    assert event.subject() == "p-7"


def test_unknown_fields_are_ignored_on_read() -> None:
    assert Parcel.model_validate_json(b'{"parcel_id": "p-1", "added_later": 3}') == Parcel(
        parcel_id="p-1"
    )


def test_the_base_event_has_no_subject() -> None:
    with pytest.raises(NotImplementedError):
        Event().subject()


@pytest.mark.parametrize(
    ("ce_type", "expected"),
    [
        ("registration.ResidenceDeclared.v1", ("registration.ResidenceDeclared", 1)),
        ("registration.ResidenceDeclared.v12", ("registration.ResidenceDeclared", 12)),
        ("my-ctx_2.Thing9.v3", ("my-ctx_2.Thing9", 3)),
    ],
)
def test_split_ce_type_returns_name_and_version(ce_type: str, expected: tuple[str, int]) -> None:
    assert split_ce_type(ce_type) == expected


@pytest.mark.parametrize(
    "ce_type",
    [
        "",
        "registration.ResidenceDeclared",
        "registration.ResidenceDeclared.v0",
        "registration.ResidenceDeclared.1",
        "ResidenceDeclared.v1",
        "registration.residenceDeclared.v1",
        "registration.ResidenceDeclared.v1.extra",
    ],
)
def test_split_ce_type_rejects_malformed_types(ce_type: str) -> None:
    assert split_ce_type(ce_type) is None


class ShelfEvent(Event, context="eventstest", topic="eventstest.shelves"):
    """A context's base: names the context and the topic, is not itself an event."""


class ShelfFilled(ShelfEvent, key="shelf_id"):
    shelf_id: str
    count: int


class ShelfEmptied(ShelfEvent, key="shelf_id", version=2):
    shelf_id: str


def test_a_context_base_derives_name_topic_and_key() -> None:
    assert ShelfFilled.ce_type() == "eventstest.ShelfFilled.v1"
    assert ShelfFilled.topic == "eventstest.shelves"
    assert ShelfFilled(shelf_id="S-1", count=3).subject() == "S-1"
    assert ShelfEmptied.ce_type() == "eventstest.ShelfEmptied.v2"
    assert event_class("eventstest.ShelfFilled.v1") is ShelfFilled
    assert event_class("eventstest.ShelfEmptied.v2") is ShelfEmptied


def test_a_context_base_is_not_an_event() -> None:
    assert "name" not in vars(ShelfEvent)
    assert not any(model is ShelfEvent for model in registered_events().values())


def test_an_abstract_base_within_a_context_is_not_an_event() -> None:
    class Counted(ShelfEvent, abstract=True):
        shelf_id: str

        def subject(self) -> str:
            return self.shelf_id.lower()

    class ShelfCounted(Counted):
        count: int

    assert "name" not in vars(Counted)
    assert ShelfCounted.ce_type() == "eventstest.ShelfCounted.v1"
    assert ShelfCounted(shelf_id="S-9", count=1).subject() == "s-9"


def test_an_event_needs_a_key_that_is_one_of_its_fields() -> None:
    with pytest.raises(ValueError, match="key 'shelf' is not one of its fields"):

        class ShelfMoved(ShelfEvent, key="shelf"):
            shelf_id: str

    with pytest.raises(ValueError, match="name its key field"):

        class ShelfDusted(ShelfEvent):
            shelf_id: str

    assert event_class("eventstest.ShelfMoved.v1") is None
    assert event_class("eventstest.ShelfDusted.v1") is None


def test_an_event_needs_a_topic() -> None:
    class Loose(Event, context="eventstest"):
        pass

    with pytest.raises(ValueError, match="no topic"):

        class LooseEnd(Loose, key="end"):
            end: str
