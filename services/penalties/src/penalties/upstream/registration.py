"""What penalties reads of registration's public events: who is responsible for each
property and employer (a notice's recipient), and the breaches registration records —
an occupant found undeclared, a declaration after its deadline, a missed monthly
return, a rental a sweep found unregistered — with the return that fixes a missed one.
Only the fields penalties reads; no reader is stricter than registration's schema."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from common.events import ForeignEvent

REGISTRATION_TOPIC = "registration.events"


class RegistrationEvent(ForeignEvent, context="registration", topic=REGISTRATION_TOPIC):
    """A reader of one of registration's events: ``registration.<ClassName>.v1``."""


class PropertyRegistered(RegistrationEvent, key="property_id"):
    """A rental property and its landlord; ``discovery_id``: a sweep found it unregistered."""

    property_id: str
    grid_id: str
    address: str
    landlord_id: str
    registered_at: datetime
    discovery_id: str | None = None


class EmployerRegistered(RegistrationEvent, key="employer_id"):
    employer_id: str
    credit_code: str
    employer_name: str
    grid_id: str
    address: str


class Channel(StrEnum):
    """How a declaration reached the office (registration's values)."""

    LANDLORD_SELF_DECLARATION = "landlord_self_declaration"
    PERSON_SELF_DECLARATION = "person_self_declaration"
    OFFICER = "officer"


class ResidenceDeclared(RegistrationEvent, key="property_id"):
    """A move-in declared; ``on_time`` false: after its deadline (a breach of the landlord)."""

    residence_id: str
    property_id: str
    grid_id: str
    room_no: str
    moved_in_on: date
    declared_at: datetime
    deadline: date
    on_time: bool
    channel: Channel
    migrated_at: datetime | None = None  # brought over from the office's previous records


class FindingOutcome(StrEnum):
    ALREADY_DECLARED = "already_declared"
    REGISTERED = "registered"


class OccupantFindingSettled(RegistrationEvent, key="property_id"):
    """An occupant a visit met; ``registered``: nobody had declared them (a breach)."""

    finding_id: str
    property_id: str
    grid_id: str
    landlord_id: str
    room_no: str
    outcome: FindingOutcome
    found_at: datetime
    visit_id: str | None = None


class EmployerReturnMissed(RegistrationEvent, key="employer_id"):
    employer_id: str
    credit_code: str
    grid_id: str
    month: str
    due_at: datetime


class EmployerReturnFiled(RegistrationEvent, key="employer_id"):
    """A monthly return filed: it carries out an order to file that month's return."""

    employer_id: str
    month: str
    filed_at: datetime
