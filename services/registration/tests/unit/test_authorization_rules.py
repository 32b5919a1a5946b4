"""Who may act on a property: landlords for their own, office staff for their grids."""

from __future__ import annotations

import pytest

from common.auth import Principal
from common.errors import Forbidden
from registration.app.access import authorize_property
from registration.app.residences import channel_of
from registration.events import Channel


def principal(role: str, *, grids: tuple[str, ...] = (), party_id: str | None = None) -> Principal:
    return Principal(sub=f"{role}-1", role=role, grids=frozenset(grids), party_id=party_id)


@pytest.mark.parametrize(
    "who",
    [
        principal("landlord", party_id="L1"),
        principal("grid_worker", grids=("G1",)),
        principal("officer", grids=("G2", "G1")),
        principal("admin"),
    ],
    ids=["own-landlord", "grid-worker-of-the-grid", "officer-of-the-grid", "admin"],
)
def test_allowed_callers_may_act_on_the_property(who: Principal) -> None:
    authorize_property(who, grid_id="G1", landlord_id="L1")  # does not raise


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        (principal("landlord", party_id="L2"), "own properties"),
        (principal("landlord"), "own properties"),
        (principal("grid_worker", grids=("G2",)), "outside the caller's grids"),
        (principal("officer"), "outside the caller's grids"),
        (principal("person"), "may not act on properties"),
        (principal("employer", party_id="L1"), "may not act on properties"),
        (principal("system"), "may not act on properties"),
    ],
    ids=[
        "other-landlord",
        "landlord-without-party",
        "grid-worker-of-another-grid",
        "officer-without-grids",
        "person",
        "employer",
        "system",
    ],
)
def test_other_callers_are_forbidden(who: Principal, reason: str) -> None:
    with pytest.raises(Forbidden, match=reason):
        authorize_property(who, grid_id="G1", landlord_id="L1")


def test_a_landlord_is_not_let_in_by_a_grid_claim() -> None:
    landlord = principal("landlord", grids=("G1",), party_id="L2")

    with pytest.raises(Forbidden):
        authorize_property(landlord, grid_id="G1", landlord_id="L1")


@pytest.mark.parametrize(
    ("role", "channel"),
    [
        ("landlord", Channel.LANDLORD_SELF_DECLARATION),
        ("person", Channel.PERSON_SELF_DECLARATION),
        ("officer", Channel.OFFICER),
        ("grid_worker", Channel.OFFICER),
        ("admin", Channel.OFFICER),
    ],
)
def test_the_declaration_channel_follows_the_callers_role(role: str, channel: Channel) -> None:
    assert channel_of(principal(role)) is channel
