"""Penalties' public events: the contract other services subscribe to.

On ``penalties.events`` (public, keyed by the case: parties by id, no personal data) and
``penalties.notices.restricted`` (notices with the recipient's details, for outreach).
One module per feature; every name is importable from here.
"""

from __future__ import annotations

from penalties.events.base import CODE, NOTICES_TOPIC, TOPIC, Action, PartyKind, PenaltiesEvent
from penalties.events.cases import BreachRecorded, CaseClosed, CaseOpened, CaseOutcome, Origin
from penalties.events.decisions import (
    AppealDecided,
    AppealLodged,
    CaseEscalated,
    EscalationReason,
    PenaltyIssued,
    RectificationOrdered,
    RectificationVerified,
    WarningIssued,
)
from penalties.events.notices import NoticeIssued, Recipient

__all__ = [
    "CODE",
    "NOTICES_TOPIC",
    "TOPIC",
    "Action",
    "AppealDecided",
    "AppealLodged",
    "BreachRecorded",
    "CaseClosed",
    "CaseEscalated",
    "CaseOpened",
    "CaseOutcome",
    "EscalationReason",
    "NoticeIssued",
    "Origin",
    "PartyKind",
    "PenaltiesEvent",
    "PenaltyIssued",
    "Recipient",
    "RectificationOrdered",
    "RectificationVerified",
    "WarningIssued",
]
