"""Reconciliation with external feeds: who is seen at a property without living there on record.

Two feeds say where people are: smart access control (智能門禁: card and face entries at
rental buildings) and the municipal five-elements platform (五大要素: lists of likely
unregistered residents by address). Registration reconciles them with its residences:
a person repeatedly seen at, or listed for, a property where they have no active
residence becomes a *lead* (an ``UnregisteredOccupantSuspected``) for the office to verify.

Pure rules only: what a valid entry is, which local day it counts for, how addresses
compare, and when sightings warrant a lead (:class:`LeadPolicy`, set by the office).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from common.errors import DomainError


class SubjectKind(StrEnum):
    """Who an entry is about: an identity number (card or face matched), or an unmatched face."""

    IDENTITY = "id"
    FACE = "face"


@dataclass(frozen=True)
class LeadPolicy:
    """When sightings of a person at a property warrant a lead (policy, not code).

    A person is suspected of living at a property when, within the last ``window_days``
    local days (today included), they were seen there at least ``min_sightings`` times on
    at least ``min_distinct_days`` different days, and have no active residence there.
    Entries older than the window cannot change a lead; they are refused as stale (which
    also bounds how long entries must be remembered to deduplicate them).
    """

    min_sightings: int
    window_days: int
    min_distinct_days: int
    timezone: tzinfo
    version: str
    source: str
    future_tolerance: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.min_sightings < 1 or self.window_days < 1 or self.min_distinct_days < 1:
            raise ValueError("lead thresholds and window must be at least 1")
        if self.min_distinct_days > self.window_days:
            raise ValueError("min_distinct_days cannot exceed window_days")

    def local_day(self, at: datetime) -> date:
        """The local calendar day an instant counts for."""
        return at.astimezone(self.timezone).date()

    def window_start(self, today: date) -> date:
        """The first day of the window that ends ``today``."""
        return today - timedelta(days=self.window_days - 1)


@dataclass(frozen=True)
class DaySighting:
    """Entries of one subject at one property on one local day."""

    day: date
    entries: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Evidence:
    """What a lead rests on: the sightings counted by the rule, and the window they fall in."""

    sightings: int
    distinct_days: int
    first_seen: datetime | None
    last_seen: datetime | None
    window_start: date
    window_days: int


def summarise(
    days: Iterable[DaySighting], *, policy: LeadPolicy, today: date, since: date | None = None
) -> Evidence:
    """The sightings within the window ending ``today`` (and on or after ``since``)."""
    start = policy.window_start(today)
    if since is not None and since > start:
        start = since
    counted = [d for d in days if start <= d.day <= today and d.entries > 0]
    return Evidence(
        sightings=sum(d.entries for d in counted),
        distinct_days=len({d.day for d in counted}),
        first_seen=min((d.first_seen for d in counted), default=None),
        last_seen=max((d.last_seen for d in counted), default=None),
        window_start=start,
        window_days=policy.window_days,
    )


def sightings_warrant_lead(
    days: Iterable[DaySighting],
    *,
    policy: LeadPolicy,
    today: date,
    has_active_residence: bool,
    has_open_lead: bool,
    last_closed_on: date | None = None,
) -> Evidence | None:
    """The evidence for a new access-control lead, or None when there should be none.

    No lead while the person has an active residence at the property, nor while a lead
    for the same person and property is open (one lead per pair at a time). After a lead
    was closed (verified), only sightings from the day after its closing count: the
    officer's finding is not overturned by the very sightings it explained.
    """
    if has_active_residence or has_open_lead:
        return None
    since = last_closed_on + timedelta(days=1) if last_closed_on is not None else None
    evidence = summarise(days, policy=policy, today=today, since=since)
    if evidence.sightings < policy.min_sightings:
        return None
    if evidence.distinct_days < policy.min_distinct_days:
        return None
    return evidence


def listing_warrants_lead(*, has_active_residence: bool, has_open_lead: bool) -> bool:
    """A five-elements listing is a lead by itself unless explained or already open."""
    return not has_active_residence and not has_open_lead


# -- access-control entries ------------------------------------------------------------------


@dataclass(frozen=True)
class AccessEntry:
    """One validated entry, reduced to what is kept: no identity number, only its hash.

    ``subject_hash`` is the keyed hash of the identity number (the same hash as
    ``persons.id_hash``) or of ``face:<token>`` for an unmatched face; ``day`` is the local
    day of ``at``; ``key`` identifies the entry (device, instant, subject) for
    deduplication, and is unique within its day.
    """

    device_id: str
    property_id: str
    subject_hash: str
    subject_kind: SubjectKind
    at: datetime
    day: date
    key: int
    id_number_masked: str | None


def subject_ref(subject_hash: str) -> str:
    """The pseudonymous reference of a lead's person, known to registration or not.

    Derived from the keyed hash like ``person_ref`` (``P`` + the same 23 characters), so a
    subject who is later registered is recognisably the same person to the office, while
    the reference reveals nothing of the identity number to anyone without the key.
    """
    return "S" + subject_hash[:23]


def entry_key(device_id: str, at: datetime, subject_hash: str) -> int:
    """A signed 64-bit key of (device, instant, subject): the natural key of an entry.

    64 bits keep the deduplication index small; two different entries of the same day
    colliding (about 1 in 10^10 for a city's day of entries) would count one entry fewer.
    """
    instant = at.astimezone(UTC).isoformat(timespec="microseconds")
    digest = hashlib.blake2b(
        f"{device_id}\x1f{instant}\x1f{subject_hash}".encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def check_entry_time(
    at: datetime, *, now: datetime, policy: LeadPolicy, today: date | None = None
) -> date:
    """The local day of an entry; refuses entries from the future or before the window.

    ``today`` is the local day of ``now``, if the caller has it already.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError("at", "must carry a UTC offset (e.g. 2026-03-04T08:15:00+08:00)")
    if at > now + policy.future_tolerance:
        raise DomainError("at", "is in the future")
    day = policy.local_day(at)
    if day < policy.window_start(today or policy.local_day(now)):
        raise DomainError(
            "at", f"is older than the {policy.window_days}-day window and cannot count any more"
        )
    return day


# -- addresses ----------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def normalise_address(address: str) -> str:
    """The form addresses are compared in: NFKC (full-width to half-width), case-folded,
    whitespace collapsed, and no spaces around punctuation.

    ``Lane 3 , No.12``, ``lane 3,no.12`` and the same in full-width letters and digits
    compare equal; nothing fuzzier than that:
    a five-elements address that is not an exact match is reported, not guessed.
    """
    text = unicodedata.normalize("NFKC", address).casefold()
    text = _SPACES.sub(" ", text).strip()
    return re.sub(r" ?([,.。#/\-()]) ?", r"\1", text)
