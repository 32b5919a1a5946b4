"""Properties, rooms and residences: the rules of declaring who lives where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from common.errors import DomainError
from common.identity import ResidentId
from registration.domain.policy import DeclarationPolicy
from registration.events import (
    Channel,
    PropertyRegistered,
    ResidenceDeclared,
    ResidenceEnded,
    ResidenceEndReason,
    RoomCapacity,
)

MAX_ROOMS = 2000
MAX_ROOM_CAPACITY = 200


@dataclass(frozen=True)
class Room:
    number: str
    capacity: int


@dataclass(frozen=True)
class Residence:
    """An active residence: a person living in a room of a property since ``moved_in_on``."""

    id: str
    property_id: str
    grid_id: str
    room_no: str
    person_ref: str
    moved_in_on: date

    def end(
        self,
        *,
        moved_out_on: date,
        reason: ResidenceEndReason,
        channel: Channel,
        now: datetime,
        today: date,
        superseded_by: str | None = None,
    ) -> ResidenceEnded:
        """End the residence; ``today`` is the office's date at ``now`` (its timezone)."""
        if moved_out_on < self.moved_in_on:
            raise DomainError(
                "moved_out_on", f"is before the move-in on {self.moved_in_on.isoformat()}"
            )
        if moved_out_on > today:
            raise DomainError("moved_out_on", "a move-out cannot be declared before it happens")
        return ResidenceEnded(
            residence_id=self.id,
            property_id=self.property_id,
            grid_id=self.grid_id,
            room_no=self.room_no,
            person_ref=self.person_ref,
            moved_in_on=self.moved_in_on,
            moved_out_on=moved_out_on,
            reason=reason,
            superseded_by=superseded_by,
            channel=channel,
            ended_at=now,
        )


PropertyEvent = PropertyRegistered | ResidenceDeclared | ResidenceEnded


@dataclass
class Property:
    id: str
    address: str
    grid_id: str
    landlord_id: str
    rooms: dict[str, Room]
    events: list[PropertyEvent] = field(default_factory=list)

    @classmethod
    def register(
        cls,
        *,
        property_id: str,
        address: str,
        grid_id: str,
        landlord_id: str,
        rooms: list[Room],
        channel: Channel,
        now: datetime,
    ) -> Property:
        if not address.strip():
            raise DomainError("address", "must not be empty")
        if not rooms:
            raise DomainError("rooms", "a rental property has at least one room")
        if len(rooms) > MAX_ROOMS:
            raise DomainError("rooms", f"at most {MAX_ROOMS} rooms per building")
        numbers = [r.number for r in rooms]
        if len(set(numbers)) != len(numbers):
            raise DomainError("rooms", "room numbers must be unique within a property")
        for i, room in enumerate(rooms):
            if not 1 <= room.capacity <= MAX_ROOM_CAPACITY:
                raise DomainError(f"rooms.{i}.capacity", f"must be 1..{MAX_ROOM_CAPACITY}")
        prop = cls(
            id=property_id,
            address=address.strip(),
            grid_id=grid_id,
            landlord_id=landlord_id,
            rooms={r.number: r for r in rooms},
        )
        prop.events.append(
            PropertyRegistered(
                property_id=property_id,
                grid_id=grid_id,
                address=prop.address,
                landlord_id=landlord_id,
                rooms=[RoomCapacity(room_no=r.number, capacity=r.capacity) for r in rooms],
                channel=channel,
                registered_at=now,
            )
        )
        return prop

    def declare_move_in(
        self,
        *,
        residence_id: str,
        person: ResidentId,
        person_ref: str,
        id_number_masked: str,
        room_no: str,
        moved_in_on: date,
        now: datetime,
        channel: Channel,
        occupants_now: int,
        policy: DeclarationPolicy,
        current: Sequence[Residence] = (),
        declared_at: datetime | None = None,
    ) -> ResidenceDeclared:
        """Record a move-in; ``occupants_now`` is the room's active residences before it.

        ``declared_at``: a declaration migrated from the office's previous records, made
        then (on or after the move-in day, not in the future); on time or not by that day.

        ``current`` are the person's active residences. A person lives in one place at a
        time: a move-in elsewhere (another property, or another room of this one) ends
        them on the day of the move-in, each with a ``ResidenceEnded`` (moved_elsewhere)
        keyed by its own property. The same room again while living there is refused.
        """
        room = self.rooms.get(room_no)
        if room is None:
            raise DomainError("room_no", f"property {self.id} has no room {room_no!r}")
        today = policy.local_date(now)
        if moved_in_on > today:
            raise DomainError("moved_in_on", "a move-in cannot be declared before it happens")
        declared_on = today
        if declared_at is not None:
            declared_on = policy.local_date(declared_at)
            if declared_at > now:
                raise DomainError("migrated.declared_at", "is in the future")
            if declared_on < moved_in_on:
                raise DomainError("migrated.declared_at", "is before the move-in")
        if moved_in_on < person.birth_date:
            raise DomainError("moved_in_on", "is before the person's birth date")
        for other in current:
            if other.property_id == self.id and other.room_no == room_no:
                raise DomainError(
                    "room_no",
                    f"the person already lives in room {room_no} (residence {other.id}); "
                    "declare the move-out first",
                )
            if moved_in_on < other.moved_in_on:
                raise DomainError(
                    "moved_in_on",
                    "is before the move-in of the person's current residence; "
                    "the office can correct the earlier declaration",
                )
        for other in current:
            self.events.append(
                other.end(
                    moved_out_on=moved_in_on,
                    reason=ResidenceEndReason.MOVED_ELSEWHERE,
                    channel=channel,
                    now=now,
                    today=today,
                    superseded_by=residence_id,
                )
            )
        deadline = policy.deadline(moved_in_on)
        event = ResidenceDeclared(
            residence_id=residence_id,
            property_id=self.id,
            grid_id=self.grid_id,
            room_no=room_no,
            person_ref=person_ref,
            id_number_masked=id_number_masked,
            gender=person.gender.value,
            birth_year=person.birth_date.year,
            origin_region=person.region_code,
            moved_in_on=moved_in_on,
            declared_at=declared_at or now,
            deadline=deadline,
            on_time=declared_on <= deadline,
            channel=channel,
            over_capacity=occupants_now + 1 > room.capacity,
            policy_version=policy.version,
            migrated_at=now if declared_at is not None else None,
        )
        self.events.append(event)
        return event

    def end_residence(
        self,
        residence: Residence,
        *,
        moved_out_on: date,
        reason: ResidenceEndReason,
        channel: Channel,
        now: datetime,
        today: date,
    ) -> ResidenceEnded:
        """Declare a move-out (or that the residence was declared in error)."""
        if residence.property_id != self.id:
            raise DomainError("residence_id", f"is not a residence of property {self.id}")
        if reason is ResidenceEndReason.MOVED_ELSEWHERE:
            raise DomainError("reason", "moved_elsewhere follows from a move-in elsewhere")
        event = residence.end(
            moved_out_on=moved_out_on, reason=reason, channel=channel, now=now, today=today
        )
        self.events.append(event)
        return event
