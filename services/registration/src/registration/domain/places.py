"""Places: grids (網格), parties (landlords, managers) and who manages a property.

A community is divided into grids; each grid has a grid worker (網格員) and holds rental
properties (buildings) with rooms. A property's landlord is responsible for it
(誰出租、誰負責); a sublessor (二房東) or a property company (物業) may manage it on the
landlord's behalf, and then declares for it too.

Parties are landlords and managers: a person, referred to by ``person_ref`` (their
personal data stays in ``persons``), or an organisation, by its unified social credit
code. The party id *is* that reference, so a person is one party however often they are
registered, and a party id in a token or an event never carries personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from common.errors import DomainError
from registration.domain.credit_code import CreditCode
from registration.events import GridRegistered, PropertyManagerAssigned, PropertyManagerRemoved

GRID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")
PERSON_REF = re.compile(r"^P[0-9a-f]{23}$")


@dataclass
class Grid:
    id: str
    name: str
    community: str
    grid_worker: str | None
    events: list[GridRegistered] = field(default_factory=list)

    @classmethod
    def register(
        cls, *, grid_id: str, name: str, community: str, grid_worker: str | None, now: datetime
    ) -> Grid:
        if not GRID_ID.match(grid_id):
            raise DomainError(
                "grid_id", "1-50 letters, digits, '-', '_' or '.', starting with a letter or digit"
            )
        if not name.strip():
            raise DomainError("name", "must not be empty")
        if not community.strip():
            raise DomainError("community", "must not be empty")
        worker = grid_worker.strip() if grid_worker else None
        grid = cls(grid_id, name.strip(), community.strip(), worker or None)
        grid.events.append(
            GridRegistered(
                grid_id=grid.id,
                grid_name=grid.name,
                community=grid.community,
                grid_worker=grid.grid_worker,
                registered_at=now,
            )
        )
        return grid


class PartyKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class Party:
    id: str
    kind: PartyKind
    person_ref: str | None = None
    credit_code: str | None = None
    name: str | None = None

    @classmethod
    def person(cls, person_ref: str) -> Party:
        """A natural person; the name stays encrypted in ``persons``, never here."""
        ref = person_ref.strip()
        if not PERSON_REF.match(ref):
            raise DomainError("person_ref", "is not a person reference (P + 23 hex digits)")
        return cls(id=ref, kind=PartyKind.PERSON, person_ref=ref)

    @classmethod
    def organisation(cls, credit_code: str, name: str | None) -> Party:
        code = CreditCode.parse(credit_code)
        if not name or not name.strip():
            raise DomainError("name", "an organisation is registered with its name")
        return cls(
            id=code.value,
            kind=PartyKind.ORGANISATION,
            credit_code=code.value,
            name=name.strip(),
        )


class ManagerKind(StrEnum):
    SUBLESSOR = "sublessor"  # 二房東: rents the building and sublets its rooms
    PROPERTY_COMPANY = "property_company"  # 物業: manages the building for the landlord


@dataclass
class PropertyManagers:
    """A property's current managers; the aggregate behind assigning and removing them."""

    property_id: str
    grid_id: str
    landlord_id: str
    active: dict[str, ManagerKind] = field(default_factory=dict)
    events: list[PropertyManagerAssigned | PropertyManagerRemoved] = field(default_factory=list)

    def assign(self, party: Party, kind: ManagerKind, *, now: datetime) -> PropertyManagerAssigned:
        if party.id == self.landlord_id:
            raise DomainError("party_id", "is the property's landlord, who needs no mandate")
        if party.id in self.active:
            raise DomainError("party_id", f"already manages property {self.property_id}")
        self.active[party.id] = kind
        event = PropertyManagerAssigned(
            property_id=self.property_id,
            grid_id=self.grid_id,
            party_id=party.id,
            party_kind=party.kind.value,
            manager_kind=kind.value,
            assigned_at=now,
        )
        self.events.append(event)
        return event

    def remove(self, party_id: str, *, now: datetime) -> PropertyManagerRemoved:
        if party_id not in self.active:
            raise DomainError("party_id", f"does not manage property {self.property_id}")
        del self.active[party_id]
        event = PropertyManagerRemoved(
            property_id=self.property_id, grid_id=self.grid_id, party_id=party_id, removed_at=now
        )
        self.events.append(event)
        return event

    def acts_for(self, party_id: str | None) -> bool:
        """The landlord or a current manager: a party that declares for the property."""
        return party_id is not None and (party_id == self.landlord_id or party_id in self.active)


class DiscoveryStatus(StrEnum):
    """What became of a building found on a sweep."""

    REGISTERED = "registered"  # a new property, channel inspection_sweep
    MATCHED_EXISTING = "matched_existing"  # already registered at that address in the grid
    PENDING_CONFIRMATION = "pending_confirmation"  # no landlord known: staff confirm one
    REJECTED = "rejected"  # broke a property rule (e.g. no rooms); the reason is kept


def normalise_address(address: str) -> str:
    """The form addresses are stored and matched in: trimmed, inner whitespace single."""
    return " ".join(address.split())
