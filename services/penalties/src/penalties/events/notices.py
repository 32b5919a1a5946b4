"""Notices served on parties (RESTRICTED: the recipient's details, frozen when issued)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from penalties.events.base import NOTICES_TOPIC, Action, PartyKind, PenaltiesEvent


class Recipient(BaseModel):
    """Who the notice is for, as known when it was issued (a later change of the party
    does not rewrite a served notice)."""

    model_config = ConfigDict(frozen=True)

    party_kind: PartyKind
    party_id: str | None
    name: str | None = Field(description="The employer's name; landlords are named by id")
    address: str | None = Field(description="The property's or the employer's address")


class NoticeIssued(PenaltiesEvent, key="case_id", topic=NOTICES_TOPIC):
    """RESTRICTED. A decision's notice for its party: the facts, the rule and its article,
    the deadline and how to appeal. Outreach delivers it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "notice_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                    "case_id": "c3f1a2b4-6d7e-4f80-9a1b-2c3d4e5f6a7b",
                    "decision_id": "6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                    "action": "rectification_order",
                    "recipient": {
                        "party_kind": "landlord",
                        "party_id": "92441900MA4X7K2B1N",
                        "name": None,
                        "address": "No. 12, Lane 4, Wentang Village, Dongcheng Subdistrict",
                    },
                    "facts": "Fire exit blocked (fire_exit_blocked), found on the visit of "
                    "2026-03-10 at No. 12, Lane 4, Wentang Village",
                    "rule": "Rectification order for a high-severity hazard",
                    "article": "Guangdong Regulations on the Service and Management of the "
                    "Floating Population, legal liability (article as set by the office)",
                    "amount_yuan": None,
                    "deadline": "2026-03-13",
                    "appeal": "Apply for administrative reconsideration within 60 days",
                    "policy_version": "gd-fpsm-2026-1",
                    "issued_at": "2026-03-10T02:40:22Z",
                }
            ]
        }
    )

    notice_id: str
    case_id: str
    decision_id: str
    action: Action
    recipient: Recipient
    facts: str
    rule: str
    article: str
    amount_yuan: int | None = None
    deadline: date | None = Field(default=None, description="For an order: the day to fix it by")
    appeal: str = Field(description="How and by when to appeal")
    policy_version: str
    issued_at: datetime
