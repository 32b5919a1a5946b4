"""Move-outs and moves: a person lives in one place at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from common.errors import DomainError
from common.identity import ResidentId, check_character
from registration.domain.policy import DeclarationPolicy
from registration.domain.residences import Property, Residence, Room
from registration.events import (
    Channel,
    ResidenceDeclared,
    ResidenceEnded,
    ResidenceEndReason,
)

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
PERSON = ResidentId.parse(
    "44030619900101123" + check_character("44030619900101123"), today=NOW.date()
)


def building(property_id: str = "prop-new", grid_id: str = "G2") -> Property:
    return Property(
        id=property_id,
        address="1 Road",
        grid_id=grid_id,
        landlord_id="L2",
        rooms={"101": Room("101", 2), "102": Room("102", 2)},
    )


def living(
    property_id: str = "prop-old", room_no: str = "201", moved_in_on: date = date(2025, 6, 1)
) -> Residence:
    return Residence(
        id="res-old",
        property_id=property_id,
        grid_id="G1",
        room_no=room_no,
        person_ref="Pabc",
        moved_in_on=moved_in_on,
    )


def move_in(
    prop: Property,
    current: list[Residence],
    *,
    room_no: str = "101",
    moved_in_on: date = date(2026, 3, 2),
    now: datetime = NOW,
    policy: DeclarationPolicy | None = None,
) -> ResidenceDeclared:
    return prop.declare_move_in(
        residence_id="res-new",
        person=PERSON,
        person_ref="Pabc",
        id_number_masked="4403**********1236",
        room_no=room_no,
        moved_in_on=moved_in_on,
        now=now,
        channel=Channel.PERSON_SELF_DECLARATION,
        occupants_now=0,
        policy=policy or DeclarationPolicy(),
        current=current,
    )


def test_a_move_in_elsewhere_ends_the_current_residence_on_the_move_in_day() -> None:
    prop = building()

    declared = move_in(prop, [living()])

    ended, last = prop.events
    assert last is declared
    assert ended == ResidenceEnded(
        residence_id="res-old",
        property_id="prop-old",
        grid_id="G1",
        room_no="201",
        person_ref="Pabc",
        moved_in_on=date(2025, 6, 1),
        moved_out_on=date(2026, 3, 2),
        reason=ResidenceEndReason.MOVED_ELSEWHERE,
        superseded_by="res-new",
        channel=Channel.PERSON_SELF_DECLARATION,
        ended_at=NOW,
    )
    assert ended.subject() == "prop-old"  # keyed by the building that was left
    assert declared.subject() == "prop-new"


def test_moving_to_another_room_of_the_same_building_ends_the_old_room() -> None:
    prop = building(property_id="prop-old")

    move_in(prop, [living(property_id="prop-old", room_no="102")], room_no="101")

    ended = prop.events[0]
    assert isinstance(ended, ResidenceEnded)
    assert (ended.room_no, ended.reason) == ("102", ResidenceEndReason.MOVED_ELSEWHERE)


def test_the_same_room_again_while_living_there_is_refused() -> None:
    prop = building(property_id="prop-old")

    with pytest.raises(DomainError, match="already lives in room 101") as error:
        move_in(prop, [living(property_id="prop-old", room_no="101")], room_no="101")

    assert error.value.field == "room_no"
    assert prop.events == []


def test_a_move_in_before_the_current_residence_began_is_refused() -> None:
    prop = building()

    with pytest.raises(DomainError, match="current residence") as error:
        move_in(prop, [living(moved_in_on=date(2026, 3, 3))], moved_in_on=date(2026, 3, 2))

    assert error.value.field == "moved_in_on"
    assert prop.events == []


def test_a_move_in_on_the_day_the_current_residence_began_ends_it_that_day() -> None:
    prop = building()

    move_in(prop, [living(moved_in_on=date(2026, 3, 2))], moved_in_on=date(2026, 3, 2))

    ended = prop.events[0]
    assert isinstance(ended, ResidenceEnded)
    assert ended.moved_out_on == ended.moved_in_on == date(2026, 3, 2)


def test_a_move_out_is_declared_with_its_reason() -> None:
    prop = building(property_id="prop-old")

    ended = prop.end_residence(
        living(),
        moved_out_on=date(2026, 3, 1),
        reason=ResidenceEndReason.MOVED_OUT,
        channel=Channel.LANDLORD_SELF_DECLARATION,
        now=NOW,
        today=NOW.date(),
    )

    assert prop.events == [ended]
    assert (ended.moved_out_on, ended.reason, ended.superseded_by) == (
        date(2026, 3, 1),
        ResidenceEndReason.MOVED_OUT,
        None,
    )


@pytest.mark.parametrize(
    ("moved_out_on", "reason", "field", "message"),
    [
        (date(2025, 5, 31), ResidenceEndReason.MOVED_OUT, "moved_out_on", "before the move-in"),
        (date(2026, 3, 5), ResidenceEndReason.MOVED_OUT, "moved_out_on", "before it happens"),
        (date(2026, 3, 1), ResidenceEndReason.MOVED_ELSEWHERE, "reason", "move-in elsewhere"),
    ],
    ids=["before-move-in", "in-the-future", "moved-elsewhere-by-hand"],
)
def test_a_move_out_breaking_a_rule_is_refused(
    moved_out_on: date, reason: ResidenceEndReason, field: str, message: str
) -> None:
    prop = building(property_id="prop-old")

    with pytest.raises(DomainError, match=message) as error:
        prop.end_residence(
            living(),
            moved_out_on=moved_out_on,
            reason=reason,
            channel=Channel.OFFICER,
            now=NOW,
            today=NOW.date(),
        )

    assert error.value.field == field
    assert prop.events == []


def test_a_residence_of_another_building_is_not_ended_here() -> None:
    prop = building(property_id="prop-new")

    with pytest.raises(DomainError) as error:
        prop.end_residence(
            living(property_id="prop-old"),
            moved_out_on=date(2026, 3, 1),
            reason=ResidenceEndReason.CORRECTED,
            channel=Channel.OFFICER,
            now=NOW,
            today=NOW.date(),
        )

    assert error.value.field == "residence_id"


def test_today_is_the_offices_date_not_utcs() -> None:
    # 01:30 on 5 March in China is still 4 March in UTC: a move-in dated 5 March
    # happens "today", not in the future.
    early = datetime(2026, 3, 4, 17, 30, tzinfo=UTC)
    event = move_in(building(), [], moved_in_on=date(2026, 3, 5), now=early)
    assert event.moved_in_on == date(2026, 3, 5)
    with pytest.raises(DomainError, match="before it happens"):
        move_in(
            building(),
            [],
            moved_in_on=date(2026, 3, 5),
            now=early,
            policy=DeclarationPolicy(timezone=UTC),
        )
