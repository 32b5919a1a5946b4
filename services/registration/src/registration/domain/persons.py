"""Persons: one record per identity number, changed only with a new version, never in place.

A person's ``ref`` is assigned once, when the record is created, and never changes: a
correction of a mistyped identity number moves the record to the new number (its lookup
hash changes) but keeps the ref, so every residence, employment and event that names the
person stays attached to them. Every version of the record is kept (see the adapters'
``person_identity_history``), with who changed it, when and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from common.errors import DomainError
from common.events import Event
from common.identity import ResidentId
from common.pii import mask_id_number
from registration.events import (
    IdentityRecordChange,
    PersonCorrected,
    PersonCorrectionSource,
    PersonIdentityRecorded,
    PersonRegistered,
)

MAX_NAME_LENGTH = 100
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")

# The fields of a record, in the order changes are reported.
FIELDS = ("id_number", "name", "phone", "gender", "birth_date", "origin_region")


def checked_name(raw: str, *, field: str = "name") -> str:
    name = raw.strip()
    if not name:
        raise DomainError(field, "must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise DomainError(field, f"at most {MAX_NAME_LENGTH} characters")
    return name


def checked_phone(raw: str | None, *, field: str = "phone") -> str | None:
    """A mainland mobile number, or None."""
    if raw is None:
        return None
    phone = raw.strip()
    if not _PHONE.match(phone):
        raise DomainError(field, "must be a mainland mobile number (11 digits, 1[3-9]…)")
    return phone


@dataclass(frozen=True)
class Identity:
    """One version of a person's identity record; the derived facts come from the number."""

    resident_id: ResidentId
    name: str
    phone: str | None

    def values(self) -> dict[str, object]:
        rid = self.resident_id
        return {
            "id_number": rid.value,
            "name": self.name,
            "phone": self.phone,
            "gender": rid.gender.value,
            "birth_date": rid.birth_date,
            "origin_region": rid.region_code,
        }

    def changed_fields(self, new: Identity) -> list[str]:
        old_values, new_values = self.values(), new.values()
        return [f for f in FIELDS if old_values[f] != new_values[f]]


@dataclass
class Person:
    ref: str
    identity: Identity
    version: int
    events: list[Event] = field(default_factory=list)

    @classmethod
    def register(cls, *, ref: str, identity: Identity, now: datetime) -> Person:
        """A new record: ``PersonRegistered`` (public) and the full record (restricted)."""
        person = cls(ref=ref, identity=identity, version=1)
        rid = identity.resident_id
        person.events.append(
            PersonRegistered(
                person_ref=ref,
                id_number_masked=mask_id_number(rid.value),
                gender=rid.gender.value,
                birth_year=rid.birth_date.year,
                origin_region=rid.region_code,
                registered_at=now,
            )
        )
        person._record(IdentityRecordChange.REGISTERED, [], previous_id_number=None, now=now)
        return person

    def correct(self, new: Identity, *, now: datetime) -> list[str]:
        """Office staff correct the record; returns the changed fields (none: no change)."""
        return self._change(new, PersonCorrectionSource.CORRECTION, now)

    def update_contact(self, *, name: str, phone: str | None, now: datetime) -> list[str]:
        """A declaration names the person: its name, and its phone if it gives one, win.

        The earlier values are kept in the history, so a wrong declaration loses nothing.
        """
        new = replace(self.identity, name=name, phone=phone or self.identity.phone)
        return self._change(new, PersonCorrectionSource.DECLARATION, now)

    def _change(self, new: Identity, via: PersonCorrectionSource, now: datetime) -> list[str]:
        changed = self.identity.changed_fields(new)
        if not changed:
            return []
        previous = self.identity
        self.identity = new
        self.version += 1
        rid = new.resident_id
        self.events.append(
            PersonCorrected(
                person_ref=self.ref,
                record_version=self.version,
                changed_fields=changed,
                via=via,
                id_number_masked=mask_id_number(rid.value),
                gender=rid.gender.value,
                birth_year=rid.birth_date.year,
                origin_region=rid.region_code,
                corrected_at=now,
            )
        )
        moved = "id_number" in changed
        self._record(
            IdentityRecordChange(via.value),
            changed,
            previous_id_number=previous.resident_id.value if moved else None,
            now=now,
        )
        return changed

    def _record(
        self,
        change: IdentityRecordChange,
        changed: list[str],
        *,
        previous_id_number: str | None,
        now: datetime,
    ) -> None:
        rid = self.identity.resident_id
        self.events.append(
            PersonIdentityRecorded(
                person_ref=self.ref,
                record_version=self.version,
                change=change,
                changed_fields=changed,
                id_number=rid.value,
                previous_id_number=previous_id_number,
                full_name=self.identity.name,
                phone=self.identity.phone,
                gender=rid.gender.value,
                birth_date=rid.birth_date,
                origin_region=rid.region_code,
                recorded_at=now,
            )
        )
