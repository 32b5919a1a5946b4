"""Cases (立案): opened against a party from a breach; one count per breach."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from penalties.events.base import CODE, PartyKind, PenaltiesEvent

GROUPING = r"^(visit|finding|declaration|return|discovery|officer):[A-Za-z0-9:_.-]{1,200}$"
"""``<what>:<its id>``: the visit, finding, declaration, month's return or discovery whose
breaches the case groups, or an officer's case."""

SOURCE_TYPE = r"^([a-z][a-z0-9_-]*\.[A-Z][A-Za-z0-9]*\.v[1-9][0-9]*|officer)$"


class Origin(StrEnum):
    EVENT = "event"  # opened from another service's event
    OFFICER = "officer"  # opened by hand


class CaseOpened(PenaltiesEvent, key="case_id"):
    """A case was opened against a party (its first count follows as ``BreachRecorded``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "c3f1a2b4-6d7e-4f80-9a1b-2c3d4e5f6a7b",
                    "party_kind": "landlord",
                    "party_id": "92441900MA4X7K2B1N",
                    "property_id": "8a60a1af-0a67-4653-ad99-61ee10881b5a",
                    "employer_id": None,
                    "grid_id": "WT-G03",
                    "origin": "event",
                    "grouping_key": "visit:5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d",
                    "opened_at": "2026-03-10T02:40:22Z",
                    "opened_by": "system",
                }
            ]
        }
    )

    case_id: str
    party_kind: PartyKind
    party_id: str | None = Field(
        description="The landlord's party id or the employer's id; null until penalties "
        "has read who is responsible for the property"
    )
    property_id: str | None = Field(description="The rental property (landlord cases)")
    employer_id: str | None = Field(description="The employer (employer cases)")
    grid_id: str
    origin: Origin
    grouping_key: str = Field(
        pattern=GROUPING,
        description="What groups the case's counts: one visit, one declaration, one month's "
        "return, one discovery, or an officer's case",
    )
    opened_at: datetime
    opened_by: str = Field(description="The officer's account, or ``system``")


class BreachRecorded(PenaltiesEvent, key="case_id"):
    """A count (one breach) of a case; a redelivered breach is never a second count."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "count_id": "c3f1a2b4-6d7e-4f80-9a1b-2c3d4e5f6a7b:1",
                    "case_id": "c3f1a2b4-6d7e-4f80-9a1b-2c3d4e5f6a7b",
                    "breach": "undeclared_occupant",
                    "breach_id": "5f0b9f7e-3c52-4a8e-9d0e-7f1d8a2b3c4d:9c1e77d0a1b2c3d4",
                    "occurred_on": "2026-03-10",
                    "source_type": "registration.OccupantFindingSettled.v1",
                    "repeat": False,
                    "recorded_at": "2026-03-10T02:40:22Z",
                }
            ]
        }
    )

    count_id: str = Field(description="``<case_id>:<n>``, n from 1")
    case_id: str
    breach: str = Field(pattern=CODE, description="The schedule's breach type")
    breach_id: str = Field(description="The breach's id at its source (deduplicates it)")
    occurred_on: date = Field(description="The day of the breach: its schedule is in force then")
    source_type: str = Field(
        pattern=SOURCE_TYPE, description="The ce_type of the event it came from, or ``officer``"
    )
    repeat: bool = Field(
        description="The same breach at the same property or employer within the look-back"
    )
    recorded_at: datetime


class CaseOutcome(StrEnum):
    RECTIFIED = "rectified"  # every order verified
    PENALISED = "penalised"  # at least one fine
    WARNED = "warned"
    REVERSED = "reversed"  # every decision reversed on appeal


class CaseClosed(PenaltiesEvent, key="case_id"):
    """Every count of the case is settled (warned, rectified, fined or reversed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "c3f1a2b4-6d7e-4f80-9a1b-2c3d4e5f6a7b",
                    "outcome": "rectified",
                    "counts": 2,
                    "fined_yuan": 0,
                    "closed_at": "2026-03-16T03:10:00Z",
                }
            ]
        }
    )

    case_id: str
    outcome: CaseOutcome
    counts: int
    fined_yuan: int = Field(description="Fines of the case, in yuan, after appeals")
    closed_at: datetime
