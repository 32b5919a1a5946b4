"""Decisions on a count (warning, rectification order, fine), escalation, verification
and appeals. Each decision names the schedule version in force on the day of the breach."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from penalties.events.base import CODE, Action, PartyKind, PenaltiesEvent

CASE = "c3f1a2b4-6d7e-4f80-9a1b-2c3d4e5f6a7b"
PROPERTY = "8a60a1af-0a67-4653-ad99-61ee10881b5a"


class WarningIssued(PenaltiesEvent, key="case_id"):
    """A warning (警告) on a count: the schedule's first step for a minor breach."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision_id": "0c9f3a1e-5b7d-4e2f-8a6c-1d2e3f4a5b6c",
                    "case_id": CASE,
                    "count_id": f"{CASE}:1",
                    "breach": "late_declaration",
                    "policy_version": "gd-fpsm-2026-1",
                    "decided_at": "2026-03-10T02:40:22Z",
                    "decided_by": "system",
                }
            ]
        }
    )

    decision_id: str
    case_id: str
    count_id: str
    breach: str = Field(pattern=CODE)
    policy_version: str = Field(description="The schedule in force on the day of the breach")
    decided_at: datetime
    decided_by: str = Field(description="The officer's account, or ``system``")


class RectificationOrdered(PenaltiesEvent, key="case_id"):
    """An order to fix a breach by a deadline (責令整改): inspection schedules the follow-up
    visit at the property; an order still open after its deadline escalates."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                    "case_id": CASE,
                    "count_id": f"{CASE}:2",
                    "breach": "hazard_high",
                    "item": "fire_exit_blocked",
                    "party_kind": "landlord",
                    "party_id": "92441900MA4X7K2B1N",
                    "property_id": PROPERTY,
                    "employer_id": None,
                    "grid_id": "WT-G03",
                    "deadline": "2026-03-13",
                    "policy_version": "gd-fpsm-2026-1",
                    "ordered_at": "2026-03-10T02:40:22Z",
                    "decided_by": "system",
                }
            ]
        }
    )

    order_id: str = Field(description="The decision's id")
    case_id: str
    count_id: str
    breach: str = Field(pattern=CODE)
    item: str | None = Field(
        default=None, pattern=CODE, description="For a hazard: the checklist item to correct"
    )
    party_kind: PartyKind
    party_id: str | None
    property_id: str | None = Field(description="Where the follow-up visit goes (landlords)")
    employer_id: str | None
    grid_id: str
    deadline: date = Field(description="The last day to rectify (working days, the calendar)")
    policy_version: str
    ordered_at: datetime
    decided_by: str


class RectificationVerified(PenaltiesEvent, key="case_id"):
    """A follow-up found the order carried out: its count is settled."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                    "case_id": CASE,
                    "count_id": f"{CASE}:2",
                    "visit_id": "7d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
                    "on_time": True,
                    "verified_at": "2026-03-12T07:30:00Z",
                    "verified_by": "officer-0317",
                }
            ]
        }
    )

    order_id: str
    case_id: str
    count_id: str
    visit_id: str | None = Field(description="The follow-up visit (inspection), if on a visit")
    on_time: bool = Field(description="Verified by the order's deadline")
    verified_at: datetime
    verified_by: str


class EscalationReason(StrEnum):
    OVERDUE = "overdue"  # the deadline passed with the order open
    FOLLOW_UP_FAILED = "follow_up_failed"  # a follow-up on or after the deadline: not fixed


class CaseEscalated(PenaltiesEvent, key="case_id"):
    """An order was not carried out: the count moves to the schedule's next step."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": CASE,
                    "count_id": f"{CASE}:2",
                    "order_id": "6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                    "reason": "follow_up_failed",
                    "to_action": "fine",
                    "policy_version": "gd-fpsm-2026-1",
                    "escalated_at": "2026-03-16T01:00:03Z",
                }
            ]
        }
    )

    case_id: str
    count_id: str
    order_id: str
    reason: EscalationReason
    to_action: Action
    policy_version: str
    escalated_at: datetime


class PenaltyIssued(PenaltiesEvent, key="case_id"):
    """A fine (處罰) on a count, within the schedule's range for the breach."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                    "case_id": CASE,
                    "count_id": f"{CASE}:2",
                    "breach": "hazard_high",
                    "party_kind": "landlord",
                    "party_id": "92441900MA4X7K2B1N",
                    "grid_id": "WT-G03",
                    "amount_yuan": 1000,
                    "policy_version": "gd-fpsm-2026-1",
                    "decided_at": "2026-03-16T01:00:03Z",
                    "decided_by": "system",
                }
            ]
        }
    )

    decision_id: str
    case_id: str
    count_id: str
    breach: str = Field(pattern=CODE)
    party_kind: PartyKind
    party_id: str | None
    grid_id: str
    amount_yuan: int
    policy_version: str
    decided_at: datetime
    decided_by: str


class AppealLodged(PenaltiesEvent, key="case_id"):
    """A party appealed a decision (or an officer recorded a correction request)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appeal_id": "3a4b5c6d-7e8f-4a9b-8c1d-2e3f4a5b6c7d",
                    "case_id": CASE,
                    "decision_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                    "lodged_at": "2026-03-17T06:00:00Z",
                    "lodged_by": "landlord-92441900MA4X7K2B1N",
                }
            ]
        }
    )

    appeal_id: str
    case_id: str
    decision_id: str
    lodged_at: datetime
    lodged_by: str


class AppealDecided(PenaltiesEvent, key="case_id"):
    """An appeal was decided: upheld (the decision is reversed, its count closed) or
    dismissed (the decision stands). The reasons are in the case, not on the topic."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appeal_id": "3a4b5c6d-7e8f-4a9b-8c1d-2e3f4a5b6c7d",
                    "case_id": CASE,
                    "decision_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                    "count_id": f"{CASE}:2",
                    "upheld": True,
                    "decided_at": "2026-03-20T02:00:00Z",
                    "decided_by": "officer-0001",
                }
            ]
        }
    )

    appeal_id: str
    case_id: str
    decision_id: str
    count_id: str
    upheld: bool = Field(description="True: the decision is reversed and its count closed")
    decided_at: datetime
    decided_by: str
