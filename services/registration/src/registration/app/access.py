"""Who may do what in registration: its scopes, its roles and every authorisation rule.

A route names the scope (and roles) it needs in ``command(SCOPE, roles=...)`` or
``requires(SCOPE, roles=...)``; a handler then calls the rule for the record it acts on,
once it has loaded it. A rule raises :class:`common.errors.Forbidden` (HTTP 403).

The roles: ``admin``, ``officer`` and ``grid_worker`` are office staff, each limited to
the grids of their token (``Principal.covers_grid``); ``landlord`` and ``employer`` act for
themselves (``party_id``); ``person`` declares only for themself; ``system`` is another
system of the office (the access-control and five-elements feeds).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal
from common.errors import Forbidden
from registration.adapters import places_repository

# -- scopes ------------------------------------------------------------------------------
READ = "registration:read"
WRITE = "registration:write"
FEEDS_WRITE = "feeds:write"
PII_READ = "pii:read"
PII_REVEAL = "pii:reveal"
PII_WRITE = "pii:write"

# -- roles -------------------------------------------------------------------------------
OFFICE_ROLES = frozenset({"admin", "officer", "grid_worker"})
SELF_ROLES = frozenset({"landlord", "employer"})
FEED_ROLES = frozenset({"system"})
"""Who may post access-control batches: the office's systems only."""
LIST_ROLES = frozenset({"system", "officer", "admin"})
"""Who may upload a five-elements list: a system, or staff by hand."""


def authorize_grid(principal: Principal, grid_id: str) -> None:
    """Office staff whose token covers the grid (its figures, lists, discoveries)."""
    if principal.role not in OFFICE_ROLES or not principal.covers_grid(grid_id):
        raise Forbidden(f"grid {grid_id} is outside the caller's grids")


def authorize_reveal(principal: Principal, reveal: bool) -> None:
    """Unmasked personal data needs ``pii:reveal`` on top of ``pii:read``."""
    if reveal and not principal.has_scope(PII_REVEAL):
        raise Forbidden(f"scope {PII_REVEAL!r} required to reveal personal data")


def authorize_property(principal: Principal, *, grid_id: str, landlord_id: str) -> None:
    """Landlords act for their own properties; office staff for their grids."""
    if principal.role == "landlord":
        if principal.party_id != landlord_id:
            raise Forbidden("a landlord acts only for their own properties")
    elif principal.role in OFFICE_ROLES:
        if not principal.covers_grid(grid_id):
            raise Forbidden(f"grid {grid_id} is outside the caller's grids")
    else:
        raise Forbidden(f"role {principal.role} may not act on properties")


async def acts_as_manager(
    session: AsyncSession, principal: Principal, *, property_id: str, landlord_id: str
) -> bool:
    """The caller is a current manager (二房東, 物業) of the property, acting for its landlord.

    A manager calls with role ``landlord`` and ``party_id`` = its own party id; it may
    then do for the property whatever its landlord may do.
    """
    return (
        principal.role == "landlord"
        and bool(principal.party_id)
        and principal.party_id != landlord_id
        and await places_repository.is_active_manager(
            session, property_id, principal.party_id or ""
        )
    )


async def authorize_property_access(
    session: AsyncSession, principal: Principal, *, property_id: str, grid_id: str, landlord_id: str
) -> None:
    """:func:`authorize_property`, and a current manager acts for the property too."""
    if await acts_as_manager(session, principal, property_id=property_id, landlord_id=landlord_id):
        return
    authorize_property(principal, grid_id=grid_id, landlord_id=landlord_id)


def authorize_party(principal: Principal, party_id: str) -> None:
    """Office staff, or the party itself (a landlord or employer token with its id)."""
    if principal.role in OFFICE_ROLES:
        return
    if principal.role in SELF_ROLES and principal.party_id == party_id:
        return
    raise Forbidden("a landlord or employer registers and reads only itself as a party")


def authorize_employer(principal: Principal, *, grid_id: str, credit_code: str) -> None:
    """An employer acts only as itself (``party_id`` = its credit code); staff in their grids."""
    if principal.role == "employer":
        if (principal.party_id or "").strip().upper() != credit_code:
            raise Forbidden("an employer acts only for itself (party_id = its credit code)")
    elif principal.role in OFFICE_ROLES:
        if not principal.covers_grid(grid_id):
            raise Forbidden(f"grid {grid_id} is outside the caller's grids")
    else:
        raise Forbidden(f"role {principal.role} may not act on employers")
