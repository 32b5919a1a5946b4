"""Cases, their counts, and the facts about them: decisions, follow-up checks, notices,
appeals (rows are added, never rewritten; a count's ``status`` is their summary)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from common.db import UtcDateTime
from penalties.adapters.metadata import metadata

cases = Table(
    "cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("grouping_key", String(250), nullable=False),
    Column("subject_id", String, nullable=False, doc="The property or employer"),
    Column("party_kind", String(10), nullable=False),
    Column("party_id", String, nullable=True),
    Column("property_id", String, nullable=True),
    Column("employer_id", String, nullable=True),
    Column("grid_id", String, nullable=False),
    Column("origin", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("outcome", String(12), nullable=True),
    Column("counts", Integer, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    UniqueConstraint("grouping_key", "subject_id"),
    Index("ix_cases_grid_status", "grid_id", "status", "opened_at"),
    Index("ix_cases_party", "party_id"),
    Index("ix_cases_property", "property_id"),
)

counts = Table(
    "counts",
    metadata,
    Column("count_id", String(50), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("breach", String(50), nullable=False),
    Column("breach_id", String(250), nullable=False),
    Column("subject_id", String, nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("source_type", String(100), nullable=False),
    Column("repeat", Boolean, nullable=False),
    Column("facts", JSON, nullable=False),
    Column("item", String(50), nullable=True),
    Column("correct_by", Date, nullable=True),
    Column("status", String(10), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("breach", "breach_id"),
    Index("ix_counts_subject_breach", "subject_id", "breach", "occurred_on"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("count_id", String(50), ForeignKey("counts.count_id"), nullable=False),
    Column("action", String(20), nullable=False),
    Column("amount_yuan", Integer, nullable=True),
    Column("deadline", Date, nullable=True),
    Column("policy_version", String(50), nullable=False),
    Column("escalated_from", String(36), nullable=True, doc="The order this fine follows"),
    Column("escalation_reason", String(20), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200), nullable=False),
    Column("closed_at", UtcDateTime, nullable=True, doc="Orders: verified or escalated"),
    Column("reversed_by", String(36), nullable=True, doc="The appeal upheld against it"),
    Index("ix_decisions_open_orders", "action", "closed_at", "deadline"),
)

checks = Table(
    "checks",
    metadata,
    Column("check_id", String(36), primary_key=True),
    Column("order_id", String(36), ForeignKey("decisions.decision_id"), nullable=False),
    Column("visit_id", String(36), nullable=True),
    Column("rectified", Boolean, nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
    Column("checked_by", String(200), nullable=False),
    Column("source", String(100), nullable=False),
    UniqueConstraint("order_id", "visit_id"),
)

notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("decision_id", String(36), nullable=False, unique=True),
    Column("party_id", String, nullable=True, index=True),
    Column("document", JSON, nullable=False, doc="The notice as served (frozen)"),
    Column("issued_at", UtcDateTime, nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("appeal_id", String(36), primary_key=True),
    Column("case_id", String(36), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("decision_id", String(36), ForeignKey("decisions.decision_id"), nullable=False),
    Column("grounds", LargeBinary, nullable=False, doc="Encrypted (common.pii)"),
    Column("lodged_at", UtcDateTime, nullable=False),
    Column("lodged_by", String(200), nullable=False),
    Column("lodged_role", String(20), nullable=False),
    Column("upheld", Boolean, nullable=True),
    Column("decision_reason", LargeBinary, nullable=True, doc="Encrypted (common.pii)"),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(200), nullable=True),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("principal", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("action", String(30), nullable=False),
    Column("case_id", String(36), nullable=True, index=True),
    Column("correlation_id", String(100), nullable=True),
)
