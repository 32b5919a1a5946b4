"""Properties, rooms and residences: the rules of declaring who lives where."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from registration.domain.errors import DomainError
from registration.domain.identity import ResidentId
from registration.domain.policy import DeclarationPolicy
from registration.events import (
    Channel,
    PropertyRegistered,
    ResidenceDeclared,
    RoomCapacity,
)

MAX_ROOMS = 2000
MAX_ROOM_CAPACITY = 200


@dataclass(frozen=True)
class Room:
    number: str
    capacity: int


@dataclass
class Property:
    id: str
    address: str
    grid_id: str
    landlord_id: str
    rooms: dict[str, Room]
    events: list[PropertyRegistered | ResidenceDeclared] = field(default_factory=list)

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
    ) -> ResidenceDeclared:
        """Record a move-in; ``occupants_now`` is the room's active residences before it."""
        room = self.rooms.get(room_no)
        if room is None:
            raise DomainError("room_no", f"property {self.id} has no room {room_no!r}")
        today = now.date()
        if moved_in_on > today:
            raise DomainError("moved_in_on", "a move-in cannot be declared before it happens")
        if moved_in_on < person.birth_date:
            raise DomainError("moved_in_on", "is before the person's birth date")
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
            declared_at=now,
            deadline=deadline,
            on_time=today <= deadline,
            channel=channel,
            over_capacity=occupants_now + 1 > room.capacity,
            policy_version=policy.version,
        )
        self.events.append(event)
        return event
