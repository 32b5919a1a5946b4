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
