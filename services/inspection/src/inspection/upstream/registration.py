"""What inspection reads of registration's public events: its local registry.

Inspection never calls registration on a visit: it keeps the properties, their rooms and
who is declared where from these events (and registration's leads), so that a plan, a
sweep's coverage and a visit's checks work from its own store. No reader is stricter than
registration's schema (the contract check refuses that): the columns the values land in
are as wide as registration's.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from common.events import ForeignEvent

REGISTRATION_TOPIC = "registration.events"


class RegistrationEvent(ForeignEvent, context="registration", topic=REGISTRATION_TOPIC):
    """A reader of one of registration's events: ``registration.<ClassName>.v1``."""


class RoomCapacity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    room_no: str
    capacity: int


class PropertyRegistered(RegistrationEvent, key="property_id"):
    """A rental building, with its rooms and their capacity."""

    property_id: str
    grid_id: str
    rooms: list[RoomCapacity]


class Channel(StrEnum):
    """How a declaration reached the office (registration's values)."""

    LANDLORD_SELF_DECLARATION = "landlord_self_declaration"
    PERSON_SELF_DECLARATION = "person_self_declaration"
    OFFICER = "officer"


class ResidenceDeclared(RegistrationEvent, key="property_id"):
    """Someone is declared to live in a room (by whom: ``channel``)."""

    residence_id: str
    property_id: str
    grid_id: str
    room_no: str
    person_ref: str
    moved_in_on: date
    channel: Channel


class ResidenceEnded(RegistrationEvent, key="property_id"):
    """A residence ended (move-out, move-in elsewhere, or correction)."""

    residence_id: str
    property_id: str


class UnregisteredOccupantSuspected(RegistrationEvent, key="property_id"):
    """A lead: someone seems to live in a building where nobody declared them."""

    lead_id: str
    property_id: str
    grid_id: str
    suspected_at: datetime


class LeadClosed(RegistrationEvent, key="property_id"):
    """A lead was closed (declared since, or verified)."""

    lead_id: str
    property_id: str


class FindingOutcome(StrEnum):
    """Registration's values: the occupant was declared there already, or is now."""

    ALREADY_DECLARED = "already_declared"
    REGISTERED = "registered"


class OccupantFindingSettled(RegistrationEvent, key="property_id"):
    """What registration made of an occupant a visit met (inspection's OccupantFound)."""

    finding_id: str
    property_id: str
    outcome: FindingOutcome
    settled_at: datetime
