"""Inspection's public events: the contract other services subscribe to.

On ``inspection.events`` (public, keyed by the aggregate: the sweep, the property, the
grid) and ``inspection.findings.restricted`` (the occupants met, with their identity,
for registration only). One module per feature; every name is importable from here.
"""

from __future__ import annotations

from inspection.events.base import FINDINGS_TOPIC, TOPIC, InspectionEvent
from inspection.events.cross import CrossInspectionRanked, TeamRanking
from inspection.events.findings import OccupantFound
from inspection.events.plans import SpotCheckPlanned
from inspection.events.sweeps import (
    DiscoveredRoom,
    PropertyDiscovered,
    SweepCompleted,
    SweepStarted,
    VolunteersRequested,
)
from inspection.events.verification import (
    VerificationCompleted,
    VerificationOutcome,
    VerificationOverdue,
)
from inspection.events.visits import (
    FollowUpResult,
    HazardFound,
    InspectionCompleted,
    Severity,
    VisitOutcome,
)

__all__ = [
    "FINDINGS_TOPIC",
    "TOPIC",
    "CrossInspectionRanked",
    "DiscoveredRoom",
    "FollowUpResult",
    "HazardFound",
    "InspectionCompleted",
    "InspectionEvent",
    "OccupantFound",
    "PropertyDiscovered",
    "Severity",
    "SpotCheckPlanned",
    "SweepCompleted",
    "SweepStarted",
    "TeamRanking",
    "VerificationCompleted",
    "VerificationOutcome",
    "VerificationOverdue",
    "VisitOutcome",
    "VolunteersRequested",
]
