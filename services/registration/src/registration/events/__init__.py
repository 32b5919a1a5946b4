"""Registration's public events: the contract other agencies' systems subscribe to.

Published on ``registration.events`` keyed by the aggregate id (``ce_subject``): the
property id for property events, the property id for residence events too, so all the
occupancy history of one building stays in order; the employer id for employer,
employment and monthly-return events. Personal data never appears here:
persons are referred to by the pseudonymous ``person_ref`` with masked values.

One module per feature; every name is importable from here.
"""

from __future__ import annotations

from registration.events.agreements import (
    AgreementExpired,
    AgreementRenewed,
    AgreementRevoked,
    AgreementSigned,
)
from registration.events.base import PERSONS_TOPIC, TOPIC, RegistrationEvent
from registration.events.employment import (
    EmployerChannel,
    EmployerRegistered,
    EmployerReturnFiled,
    EmployerReturnMissed,
    EmploymentDeclared,
    EmploymentEnded,
)
from registration.events.persons import (
    IdentityRecordChange,
    PersonCorrected,
    PersonCorrectionSource,
    PersonIdentityRecorded,
    PersonRegistered,
)
from registration.events.places import (
    GridRegistered,
    PropertyManagerAssigned,
    PropertyManagerRemoved,
)
from registration.events.reconciliation import (
    LeadClosed,
    LeadEvidence,
    LeadOutcome,
    LeadSource,
    UnregisteredOccupantSuspected,
)
from registration.events.residences import (
    Channel,
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
    ResidenceDeclared,
    ResidenceEnded,
    ResidenceEndReason,
    RoomCapacity,
)

__all__ = [
    "PERSONS_TOPIC",
    "TOPIC",
    "AgreementExpired",
    "AgreementRenewed",
    "AgreementRevoked",
    "AgreementSigned",
    "Channel",
    "EmployerChannel",
    "EmployerRegistered",
    "EmployerReturnFiled",
    "EmployerReturnMissed",
    "EmploymentDeclared",
    "EmploymentEnded",
    "FindingOutcome",
    "GridRegistered",
    "IdentityRecordChange",
    "LeadClosed",
    "LeadEvidence",
    "LeadOutcome",
    "LeadSource",
    "OccupantFindingSettled",
    "PersonCorrected",
    "PersonCorrectionSource",
    "PersonIdentityRecorded",
    "PersonRegistered",
    "PropertyManagerAssigned",
    "PropertyManagerRemoved",
    "PropertyRegistered",
    "RegistrationEvent",
    "ResidenceDeclared",
    "ResidenceEndReason",
    "ResidenceEnded",
    "RoomCapacity",
    "UnregisteredOccupantSuspected",
]
