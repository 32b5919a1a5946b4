"""Reconciliation: access-control entries in, leads out; the facade of the consumers and routes.

Same shape as :mod:`registration.app.residences`: everything happens in the caller's
transaction (an HTTP command's, or a consumer batch's), events are staged in the outbox.

An access-control batch is applied with a fixed number of statements whatever its size:
remember the entries' keys (the new ones come back), add the new entries to the daily
sightings (one upsert), then look only at the (person, property) pairs the batch touched
for leads. See :mod:`registration.domain.reconciliation` for the rule,
:mod:`registration.app.leads` for opening and closing leads, and
:mod:`registration.app.five_elements` for the municipal lists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import structlog
from prometheus_client import Counter as PromCounter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.auth import Principal
from common.clock import Clock
from common.dates import Moment
from common.envelope import Envelope, Trace
from common.events import Event
from common.identity import ResidentId
from common.pii import PiiCipher, mask_id_number
from common.publisher import Publisher
from registration.adapters import reconciliation_repository as repo
from registration.app.five_elements import FiveElementsList, apply_list
from registration.app.leads import Candidate, Leads
from registration.app.residences import ResidenceService
from registration.domain.reconciliation import (
    AccessEntry,
    LeadPolicy,
    SubjectKind,
    check_entry_time,
    entry_key,
    normalise_address,
    sightings_warrant_lead,
)
from registration.events import LeadSource, PropertyRegistered

log = structlog.get_logger(__name__)

ACCESS_ENTRIES = PromCounter(
    "access_entries_total",
    "Access-control entries by channel (http, kafka) and outcome (applied, duplicate, rejected)",
    ["channel", "outcome"],
)


# No control characters (PostgreSQL refuses NUL in text): an entry that validates can be stored.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class AccessEntryIn(BaseModel):
    """One access-control entry as a feed sends it (HTTP batch item, or one Kafka record).

    Unknown fields are ignored: these are other vendors' systems, which add fields.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    device_id: str = Field(min_length=1, max_length=100, pattern=_PRINTABLE)
    property_id: str = Field(
        min_length=1,
        max_length=36,
        pattern=_PRINTABLE,
        description="Registration's id of the building",
    )
    room_no: str | None = Field(
        default=None, max_length=50, pattern=_PRINTABLE, description="Not used yet"
    )
    id_number: str | None = Field(
        default=None, description="Resident identity number from the card or face match"
    )
    face_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=_PRINTABLE,
        description="An unmatched face",
    )
    direction: Literal["in", "out"]
    at: Moment = Field(description="When, with its UTC offset")

    @model_validator(mode="after")
    def _one_subject(self) -> AccessEntryIn:
        if (self.id_number is None) == (self.face_token is None):
            raise ValueError("exactly one of id_number and face_token is required")
        return self


def validation_problem(exc: ValidationError) -> tuple[str, str]:
    """(field, reason) of the first error; never the input (it may be an identity number)."""
    first = exc.errors(include_input=False, include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"]) or "entry"
    return loc, str(first["msg"]).removeprefix("Value error, ")


@dataclass
class IngestResult:
    applied: int = 0
    duplicates: int = 0
    leads_opened: int = 0


class ReconciliationService:
    """Reconciliation's use cases, in the caller's transaction (see the module docstring)."""

    def __init__(
        self,
        *,
        publisher: Publisher,
        clock: Clock,
        cipher: PiiCipher,
        policy: LeadPolicy,
        declarations: ResidenceService,
        sightings_retention_days: int = 90,
        purge_interval: timedelta = timedelta(hours=1),
        identity_cache_size: int = 50_000,
    ) -> None:
        self.clock = clock
        self.cipher = cipher
        self.policy = policy
        self.leads = Leads(
            publisher=publisher,
            clock=clock,
            cipher=cipher,
            policy=policy,
            declarations=declarations,
        )
        self.sightings_retention_days = sightings_retention_days
        self.purge_interval = purge_interval
        self._last_purge: datetime | None = None
        # People pass their door several times a day: an identity number is validated
        # and hashed once per process and day, not per entry. The cache is keyed by a
        # digest under a key that lives only in this process, so it holds no identity
        # number (only what the database holds too: keyed hashes and masked numbers).
        self._cache_size = identity_cache_size
        self._cache_key = secrets.token_bytes(32)
        self._cache: dict[bytes, tuple[str, str]] = {}
        self._cache_day: date | None = None

    # -- access-control entries ----------------------------------------------------------------

    def to_entry(self, raw: AccessEntryIn, now: datetime) -> AccessEntry:
        """Validate and pseudonymise one entry; raises :class:`DomainError` with the field.

        The identity number is checked (GB 11643) and replaced by its keyed hash, the same
        hash ``persons.id_hash`` holds, so sightings join to registered persons.
        """
        today = self.policy.local_day(now)
        day = check_entry_time(raw.at, now=now, policy=self.policy, today=today)
        masked = None
        if raw.id_number is not None:
            subject_hash, masked = self._pseudonymise(raw.id_number, today)
            kind = SubjectKind.IDENTITY
        else:
            assert raw.face_token is not None
            subject_hash = self.cipher.keyed_hash(f"face:{raw.face_token}")
            kind = SubjectKind.FACE
        at = raw.at.astimezone(UTC)  # stored in UTC (SQLite keeps no offset)
        return AccessEntry(
            device_id=raw.device_id,
            property_id=raw.property_id,
            subject_hash=subject_hash,
            subject_kind=kind,
            at=at,
            day=day,
            key=entry_key(raw.device_id, at, subject_hash),
            id_number_masked=masked,
        )

    def _pseudonymise(self, id_number: str, today: date) -> tuple[str, str]:
        """(keyed hash, masked) of a valid identity number; raises DomainError otherwise."""
        if today != self._cache_day or len(self._cache) >= self._cache_size:
            self._cache.clear()  # a new day (validity depends on it), or full
            self._cache_day = today
        slot = hashlib.blake2b(id_number.encode(), key=self._cache_key, digest_size=16).digest()
        known = self._cache.get(slot)
        if known is None:
            person = ResidentId.parse(id_number, today=today)
            known = self._cache[slot] = (
                self.cipher.keyed_hash(person.value),
                mask_id_number(person.value),
            )
        return known

    async def ingest(
        self, session: AsyncSession, entries: list[AccessEntry], trace: Trace, *, channel: str
    ) -> IngestResult:
        """Apply valid entries: count the new ones into the sightings, open leads they warrant."""
        result = IngestResult()
        if not entries:
            return result
        await repo.plan_for_this_batch(session)
        unique: dict[tuple[Any, int], AccessEntry] = {}
        for entry in entries:
            unique.setdefault((entry.day, entry.key), entry)
        fresh_keys = await repo.remember_entries(session, list(unique))
        fresh = [e for k, e in unique.items() if k in fresh_keys]
        result.applied = len(fresh)
        result.duplicates = len(entries) - len(fresh)

        counts: dict[tuple[str, str, Any], list[Any]] = {}
        masked: dict[str, str] = {}
        for e in fresh:
            slot = counts.get((e.subject_hash, e.property_id, e.day))
            if slot is None:
                counts[(e.subject_hash, e.property_id, e.day)] = [e.subject_kind, 1, e.at, e.at]
            else:
                slot[1] += 1
                slot[2] = min(slot[2], e.at)
                slot[3] = max(slot[3], e.at)
            if e.id_number_masked is not None:
                masked[e.subject_hash] = e.id_number_masked
        await repo.add_sightings(
            session,
            [
                repo.SightingRow(h, p, d, kind, n, first, last)
                for (h, p, d), (kind, n, first, last) in counts.items()
            ],
        )
        touched: dict[tuple[str, str], Any] = {}
        for (h, p, d), (kind, *_rest) in counts.items():
            if kind is SubjectKind.IDENTITY:
                touched[(h, p)] = d
        result.leads_opened = await self._evaluate_sightings(
            session, [(h, p, d) for (h, p), d in touched.items()], masked, trace
        )
        ACCESS_ENTRIES.labels(channel, "applied").inc(result.applied)
        ACCESS_ENTRIES.labels(channel, "duplicate").inc(result.duplicates)
        return result

    async def _evaluate_sightings(
        self,
        session: AsyncSession,
        touched: list[tuple[str, str, Any]],
        masked: dict[str, str],
        trace: Trace,
    ) -> int:
        """Leads for the touched pairs that nothing explains and whose sightings suffice."""
        if not touched:
            return 0
        unexplained = await repo.unexplained_sightings(session, touched)
        if not unexplained:
            return 0
        today = self.policy.local_day(self.clock.now())
        by_day = await repo.sightings_by_day(
            session,
            [(u.subject_hash, u.property_id) for u in unexplained],
            self.policy.window_start(today),
        )
        candidates = []
        for u in unexplained:
            closed_on = self.policy.local_day(u.last_closed_at) if u.last_closed_at else None
            evidence = sightings_warrant_lead(
                by_day.get((u.subject_hash, u.property_id), []),
                policy=self.policy,
                today=today,
                has_active_residence=False,
                has_open_lead=False,
                last_closed_on=closed_on,
            )
            if evidence is not None:
                candidates.append(
                    Candidate(
                        u.subject_hash,
                        u.property_id,
                        u.grid_id,
                        u.person_ref,
                        masked[u.subject_hash],
                        evidence,
                        LeadSource.ACCESS_CONTROL,
                    )
                )
        return await self.leads.open(session, candidates, trace)

    async def purge_if_due(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, chunk: int = 50_000
    ) -> int:
        """Forget entry keys no acceptable entry can match, and sightings past retention.

        Called after a batch has committed, in transactions of its own (never inside a
        batch: a large delete would hold up the batch and its locks). Throttled per
        process to ``purge_interval``; any replica may do it, the deletes are idempotent.
        At most ten chunks per call, so a backlog is worked off over several calls.
        """
        now = self.clock.now()
        if self._last_purge is not None and now - self._last_purge < self.purge_interval:
            return 0
        self._last_purge = now
        today = self.policy.local_day(now)
        total = 0
        for _ in range(10):
            async with sessionmaker() as session, session.begin():
                deleted = await repo.purge_some(
                    session,
                    keys_before=self.policy.window_start(today),
                    sightings_before=today - timedelta(days=self.sightings_retention_days),
                    limit=chunk,
                )
            total += deleted
            if deleted < chunk:
                break
        else:
            self._last_purge = None  # a backlog: carry on after the next batch
        return total

    # -- five-elements lists, verifications, declarations --------------------------------------

    async def apply_five_elements(
        self, session: AsyncSession, parsed: FiveElementsList, principal: Principal, trace: Trace
    ) -> tuple[int, dict[str, Any]]:
        """Each listed person without an active residence at the property becomes a lead."""
        return await apply_list(
            session,
            parsed,
            principal,
            trace,
            cipher=self.cipher,
            policy=self.policy,
            leads=self.leads,
        )

    async def on_verification_completed(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        await self.leads.on_verification_completed(session, event, envelope)

    async def on_residence_declared(
        self, session: AsyncSession, event: Event, envelope: Envelope
    ) -> None:
        await self.leads.on_residence_declared(session, event, envelope)

    async def on_property_registered(
        self, session: AsyncSession, event: Event, _envelope: Envelope
    ) -> None:
        """Keep the address index the five-elements lists are matched against."""
        assert isinstance(event, PropertyRegistered)
        await repo.upsert_property_address(
            session,
            property_id=event.property_id,
            grid_id=event.grid_id,
            address_norm=normalise_address(event.address),
        )
