"""Notices to a grid's residents: the rules, without I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from common.errors import DomainError


@dataclass(frozen=True)
class Notice:
    notice_id: str
    grid_id: str
    title: str
    body: str
    posted_by: str
    posted_at: datetime
    until: date


def post_notice(
    *,
    notice_id: str,
    grid_id: str,
    title: str,
    body: str,
    posted_by: str,
    now: datetime,
    today: date,
    until: date,
    max_days: int,
) -> Notice:
    """A notice stays up from today to ``until``, at most ``max_days`` days (policy)."""
    if until < today:
        raise DomainError("until", "a notice cannot end before the day it is posted")
    if (until - today).days > max_days:
        raise DomainError("until", f"a notice stays up at most {max_days} days")
    return Notice(notice_id, grid_id, title.strip(), body.strip(), posted_by, now, until)
