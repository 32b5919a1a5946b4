"""Registering a property and declaring who moves in: the domain's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from common.errors import DomainError
from common.identity import ResidentId, check_character
from registration.domain.policy import DeclarationPolicy
from registration.domain.residences import Property, Room
from registration.events import Channel, PropertyRegistered, ResidenceDeclared, RoomCapacity

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
PERSON = ResidentId.parse(
    "44030619900101123" + check_character("44030619900101123"), today=NOW.date()
)


def register(rooms: list[Room], address: str = "12 Wentang Road") -> Property:
    return Property.register(
        property_id="prop-1",
        address=address,
        grid_id="G1",
        landlord_id="L1",
        rooms=rooms,
        channel=Channel.LANDLORD_SELF_DECLARATION,
        now=NOW,
    )


def declare(
    prop: Property,
    *,
    room_no: str = "101",
    moved_in_on: date = date(2026, 3, 2),
    occupants_now: int = 0,
    now: datetime = NOW,
    person: ResidentId = PERSON,
) -> ResidenceDeclared:
    return prop.declare_move_in(
        residence_id="res-1",
        person=person,
        person_ref="Pabc",
        id_number_masked="4403**********1236",
        room_no=room_no,
        moved_in_on=moved_in_on,
        now=now,
        channel=Channel.LANDLORD_SELF_DECLARATION,
        occupants_now=occupants_now,
        policy=DeclarationPolicy(),
    )


def test_registering_a_property_records_a_property_registered_event() -> None:
    prop = register([Room("101", 2), Room("102", 1)], address="  12 Wentang Road ")

    assert prop.address == "12 Wentang Road"
    assert set(prop.rooms) == {"101", "102"}
    assert prop.events == [
        PropertyRegistered(
            property_id="prop-1",
            grid_id="G1",
            address="12 Wentang Road",
            landlord_id="L1",
            rooms=[
                RoomCapacity(room_no="101", capacity=2),
                RoomCapacity(room_no="102", capacity=1),
            ],
            channel=Channel.LANDLORD_SELF_DECLARATION,
            registered_at=NOW,
        )
    ]


@pytest.mark.parametrize(
    ("rooms", "address", "field", "message"),
    [
        ([], "12 Wentang Road", "rooms", "at least one room"),
        ([Room("101", 2), Room("101", 3)], "12 Wentang Road", "rooms", "must be unique"),
        ([Room("101", 2), Room("102", 0)], "12 Wentang Road", "rooms.1.capacity", "1..200"),
        ([Room("101", 201)], "12 Wentang Road", "rooms.0.capacity", "1..200"),
        ([Room("101", 2)], "   ", "address", "must not be empty"),
    ],
    ids=["no-rooms", "duplicate-room-numbers", "capacity-0", "capacity-201", "blank-address"],
)
def test_property_breaking_a_rule_is_not_registered(
    rooms: list[Room], address: str, field: str, message: str
) -> None:
    with pytest.raises(DomainError, match=message) as error:
        register(rooms, address=address)

    assert error.value.field == field


def test_timely_move_in_is_declared_on_time_with_its_deadline() -> None:
    prop = register([Room("101", 2)])

    event = declare(prop, moved_in_on=date(2026, 3, 2))  # Monday; deadline Thursday

    assert event.on_time is True
    assert event.deadline == date(2026, 3, 5)
    assert event.over_capacity is False
    assert (event.property_id, event.grid_id, event.room_no) == ("prop-1", "G1", "101")
    assert (event.gender, event.birth_year, event.origin_region) == ("male", 1990, "440306")
    assert event.policy_version == "default-2026"
    assert event.declared_at == NOW
    assert prop.events[-1] == event


def test_declaration_on_the_deadline_day_is_on_time() -> None:
    prop = register([Room("101", 2)])

    event = declare(prop, moved_in_on=date(2026, 3, 1))  # Sunday; deadline Wednesday 4 March

    assert event.deadline == NOW.date()
    assert event.on_time is True


def test_late_declaration_is_marked_not_on_time() -> None:
    prop = register([Room("101", 2)])

    # Friday in the Spring Festival holiday (15-23 Feb 2026): the three working days are
    # 24, 25 and 26 Feb.
    event = declare(prop, moved_in_on=date(2026, 2, 20))

    assert event.deadline == date(2026, 2, 26)
    assert event.on_time is False


def test_move_in_to_a_full_room_is_flagged_over_capacity() -> None:
    prop = register([Room("101", 2)])

    assert declare(prop, occupants_now=1).over_capacity is False
    assert declare(prop, occupants_now=2).over_capacity is True


def test_move_in_to_an_unknown_room_is_refused() -> None:
    prop = register([Room("101", 2)])

    with pytest.raises(DomainError, match="no room '999'") as error:
        declare(prop, room_no="999")

    assert error.value.field == "room_no"
    assert len(prop.events) == 1  # only the registration


def test_move_in_in_the_future_is_refused() -> None:
    prop = register([Room("101", 2)])

    with pytest.raises(DomainError, match="before it happens") as error:
        declare(prop, moved_in_on=date(2026, 3, 5))

    assert error.value.field == "moved_in_on"


def test_move_in_before_the_person_was_born_is_refused() -> None:
    prop = register([Room("101", 2)])

    with pytest.raises(DomainError, match="birth date") as error:
        declare(prop, moved_in_on=date(1989, 12, 31))

    assert error.value.field == "moved_in_on"
