"""Grids, parties and property managers: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.errors import DomainError
from registration.domain.credit_code import with_check_character
from registration.domain.places import (
    Grid,
    ManagerKind,
    Party,
    PartyKind,
    PropertyManagers,
    normalise_address,
)

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
CODE = with_check_character("91441900MA4X00001")
PERSON = "P" + "0123456789abcdef0123456"


def test_registering_a_grid_trims_and_publishes_it() -> None:
    grid = Grid.register(
        grid_id="G-01", name=" Wentang 1 ", community="Wentang", grid_worker=" ", now=NOW
    )

    assert (grid.name, grid.grid_worker) == ("Wentang 1", None)
    (event,) = grid.events
    assert (event.grid_id, event.grid_name, event.community, event.subject()) == (
        "G-01",
        "Wentang 1",
        "Wentang",
        "G-01",
    )


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"grid_id": "G 1"}, "grid_id"),
        ({"grid_id": "-G1"}, "grid_id"),
        ({"grid_id": "G/1"}, "grid_id"),
        ({"name": "  "}, "name"),
        ({"community": ""}, "community"),
    ],
)
def test_a_grid_needs_a_code_a_name_and_a_community(kw: dict[str, str], field: str) -> None:
    values = {"grid_id": "G1", "name": "Grid 1", "community": "Wentang", **kw}
    with pytest.raises(DomainError) as err:
        Grid.register(**values, grid_worker=None, now=NOW)
    assert err.value.field == field


def test_a_person_party_is_its_person_ref_and_carries_no_personal_data() -> None:
    party = Party.person(PERSON)

    assert (party.id, party.kind, party.person_ref, party.name) == (
        PERSON,
        PartyKind.PERSON,
        PERSON,
        None,
    )
    with pytest.raises(DomainError) as err:
        Party.person("440306199001011236")  # an identity number is not a reference
    assert err.value.field == "person_ref"


def test_an_organisation_party_is_its_credit_code_with_its_name() -> None:
    party = Party.organisation(CODE.lower(), " Wentang Property Services ")

    assert (party.id, party.credit_code, party.name) == (CODE, CODE, "Wentang Property Services")
    with pytest.raises(DomainError) as bad_code:
        Party.organisation(CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), "X")
    assert bad_code.value.field == "credit_code"
    with pytest.raises(DomainError) as no_name:
        Party.organisation(CODE, None)
    assert no_name.value.field == "name"


def managers() -> PropertyManagers:
    return PropertyManagers(property_id="prop-1", grid_id="G1", landlord_id="L1")


def test_a_manager_acts_for_the_property_until_removed() -> None:
    agg = managers()
    company = Party.organisation(CODE, "Wentang Property Services")

    assigned = agg.assign(company, ManagerKind.PROPERTY_COMPANY, now=NOW)

    assert agg.acts_for(CODE) and agg.acts_for("L1")
    assert not agg.acts_for("L2") and not agg.acts_for(None)
    assert (assigned.party_id, assigned.party_kind, assigned.manager_kind) == (
        CODE,
        "organisation",
        "property_company",
    )
    removed = agg.remove(CODE, now=NOW)
    assert not agg.acts_for(CODE)
    assert (removed.property_id, removed.party_id) == ("prop-1", CODE)
    assert len(agg.events) == 2


def test_the_landlord_is_not_their_own_manager_and_no_one_is_assigned_twice() -> None:
    agg = managers()
    sublessor = Party.person(PERSON)
    agg.assign(sublessor, ManagerKind.SUBLESSOR, now=NOW)

    with pytest.raises(DomainError, match="already manages"):
        agg.assign(sublessor, ManagerKind.SUBLESSOR, now=NOW)
    with pytest.raises(DomainError, match="landlord"):
        agg.assign(Party("L1", PartyKind.PERSON), ManagerKind.SUBLESSOR, now=NOW)
    with pytest.raises(DomainError, match="does not manage"):
        agg.remove("nobody", now=NOW)


def test_addresses_are_matched_with_their_whitespace_normalised() -> None:
    assert normalise_address("  7  Wentang\tBack Lane ") == "7 Wentang Back Lane"
