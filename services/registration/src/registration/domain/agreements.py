"""Responsibility agreements (責任書): who undertook, with the office, to answer for what.

"Whoever rents out is responsible" (誰出租、誰負責) and "whoever employs is responsible"
(誰用工、誰負責): a landlord signs for a property, a tenant for their tenancy in it, an
employer for its workforce. An agreement runs from ``valid_from`` to ``valid_until``
(inclusive, local dates). Its life:

    active ──renew──► superseded      (the renewal is a new, active agreement)
    active ──revoke─► revoked
    active ──its last day passes──► expired ──renew──► (stays expired, linked to the renewal)

At most one agreement per subject is active: the landlord agreement of a property, the
tenant agreement of one tenant in a property, the employer agreement of an employer.
A subject is *covered* on a day when its active agreement is in force that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from common.errors import DomainError
from registration.domain.policy import CHINA_TIME
from registration.events import (
    AgreementExpired,
    AgreementRenewed,
    AgreementRevoked,
    AgreementSigned,
)


class AgreementKind(StrEnum):
    LANDLORD = "landlord"
    TENANT = "tenant"
    EMPLOYER = "employer"

    @property
    def on_property(self) -> bool:
        return self is not AgreementKind.EMPLOYER


class AgreementStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class AgreementPolicy:
    """How long an agreement may run, and the local time its days are reckoned in."""

    max_validity_years: int = 3
    timezone: tzinfo = CHINA_TIME
    version: str = "default-2026"
    source: str = (
        "Responsibility agreements run at most 3 years and lapse at the end of their last "
        "day, China time (default; set per city)"
    )

    def __post_init__(self) -> None:
        if self.max_validity_years < 1:
            raise ValueError("max_validity_years must be at least 1")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()

    def expires_at(self, valid_until: date) -> datetime:
        """The instant an agreement lapses: 00:00 local time the day after its last day."""
        day_after = valid_until + timedelta(days=1)
        return datetime.combine(day_after, time(0), tzinfo=self.timezone).astimezone(UTC)

    def latest_end(self, valid_from: date) -> date:
        """The last day an agreement starting ``valid_from`` may run to."""
        years = self.max_validity_years
        try:
            end = valid_from.replace(year=valid_from.year + years)
        except ValueError:  # 29 February in a year that has none
            end = date(valid_from.year + years, 3, 1)
        return end - timedelta(days=1)


@dataclass(frozen=True)
class Subject:
    """What an agreement is about, and who signed it."""

    kind: AgreementKind
    grid_id: str
    signatory_party_id: str
    property_id: str | None = None
    employer_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind.on_property and (self.property_id is None or self.employer_id is not None):
            raise ValueError(f"a {self.kind} agreement is about a property")
        if not self.kind.on_property and (self.employer_id is None or self.property_id):
            raise ValueError("an employer agreement is about an employer")

    @property
    def key(self) -> str:
        """One active agreement per key (enforced by a partial unique index too)."""
        if self.kind is AgreementKind.LANDLORD:
            return f"landlord:{self.property_id}"
        if self.kind is AgreementKind.TENANT:
            return f"tenant:{self.property_id}:{self.signatory_party_id}"
        return f"employer:{self.employer_id}"


@dataclass(frozen=True)
class Terms:
    counterpart_office: str
    signed_on: date
    valid_from: date
    valid_until: date

    def check(self, *, today: date, policy: AgreementPolicy) -> Terms:
        """The terms, trimmed, if they make a recordable agreement today; else DomainError."""
        office = self.counterpart_office.strip()
        if not office:
            raise DomainError("counterpart_office", "must not be empty")
        if self.signed_on > today:
            raise DomainError("signed_on", "an agreement cannot be recorded before it is signed")
        if self.valid_from < self.signed_on:
            raise DomainError("valid_from", "is before the agreement was signed")
        if self.valid_until < self.valid_from:
            raise DomainError("valid_until", "is before valid_from")
        if self.valid_until < today:
            raise DomainError("valid_until", "has passed: the agreement would already be over")
        latest = policy.latest_end(self.valid_from)
        if self.valid_until > latest:
            raise DomainError(
                "valid_until",
                f"an agreement runs at most {policy.max_validity_years} years "
                f"(until {latest.isoformat()} at the latest)",
            )
        return Terms(office, self.signed_on, self.valid_from, self.valid_until)


AgreementEvent = AgreementSigned | AgreementRenewed | AgreementRevoked | AgreementExpired


@dataclass
class Agreement:
    id: str
    subject: Subject
    terms: Terms
    status: AgreementStatus
    recorded_at: datetime
    supersedes: str | None = None
    superseded_by: str | None = None
    events: list[AgreementEvent] = field(default_factory=list)

    @property
    def kind(self) -> AgreementKind:
        return self.subject.kind

    def in_force(self, today: date) -> bool:
        return (
            self.status is AgreementStatus.ACTIVE
            and self.terms.valid_from <= today <= self.terms.valid_until
        )

    @classmethod
    def sign(
        cls,
        *,
        agreement_id: str,
        subject: Subject,
        terms: Terms,
        now: datetime,
        policy: AgreementPolicy,
    ) -> Agreement:
        checked = terms.check(today=policy.local_date(now), policy=policy)
        agreement = cls(agreement_id, subject, checked, AgreementStatus.ACTIVE, now)
        agreement.events.append(
            AgreementSigned(**agreement._facts(), policy_version=policy.version)
        )
        return agreement

    def renew(
        self, *, agreement_id: str, terms: Terms, now: datetime, policy: AgreementPolicy
    ) -> Agreement:
        """A new agreement for the same subject and signatory that replaces this one."""
        if self.superseded_by is not None:
            raise DomainError("agreement_id", f"was already renewed by {self.superseded_by}")
        if self.status not in (AgreementStatus.ACTIVE, AgreementStatus.EXPIRED):
            raise DomainError("agreement_id", f"is {self.status}: sign a new agreement instead")
        checked = terms.check(today=policy.local_date(now), policy=policy)
        if checked.valid_until <= self.terms.valid_until:
            raise DomainError(
                "valid_until",
                "a renewal runs past the agreement it renews "
                f"(until {self.terms.valid_until.isoformat()})",
            )
        renewal = Agreement(
            agreement_id,
            self.subject,
            checked,
            AgreementStatus.ACTIVE,
            now,
            supersedes=self.id,
        )
        if self.status is AgreementStatus.ACTIVE:
            self.status = AgreementStatus.SUPERSEDED
        self.superseded_by = agreement_id
        renewal.events.append(
            AgreementRenewed(
                **renewal._facts(), previous_agreement_id=self.id, policy_version=policy.version
            )
        )
        return renewal

    def revoke(self, *, now: datetime) -> AgreementRevoked:
        if self.status is not AgreementStatus.ACTIVE:
            raise DomainError("agreement_id", f"is {self.status}: only an active one is revoked")
        self.status = AgreementStatus.REVOKED
        event = AgreementRevoked(**self._about(), revoked_at=now)
        self.events.append(event)
        return event

    def expire(self, *, now: datetime, policy: AgreementPolicy) -> AgreementExpired | None:
        """Lapse at the end of the last day; None if not active or not over yet."""
        if self.status is not AgreementStatus.ACTIVE:
            return None
        if policy.local_date(now) <= self.terms.valid_until:
            return None
        self.status = AgreementStatus.EXPIRED
        event = AgreementExpired(
            **self._about(), valid_until=self.terms.valid_until, expired_at=now
        )
        self.events.append(event)
        return event

    def _about(self) -> dict[str, str | None]:
        return {
            "agreement_id": self.id,
            "kind": self.kind.value,
            "property_id": self.subject.property_id,
            "employer_id": self.subject.employer_id,
            "grid_id": self.subject.grid_id,
        }

    def _facts(self) -> dict[str, object]:
        return {
            **self._about(),
            "signatory_party_id": self.subject.signatory_party_id,
            "counterpart_office": self.terms.counterpart_office,
            "signed_on": self.terms.signed_on,
            "valid_from": self.terms.valid_from,
            "valid_until": self.terms.valid_until,
            "recorded_at": self.recorded_at,
        }
