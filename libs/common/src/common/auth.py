"""JWT bearer authentication with roles, scopes and the grids/party a principal acts for."""

from __future__ import annotations

import argparse
import time
import weakref
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ALGORITHM = "HS256"
ROLES = frozenset({"admin", "officer", "grid_worker", "landlord", "employer", "person", "system"})

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``sub`` is the account, ``party_id`` the landlord/employer it acts for."""

    sub: str
    role: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    grids: frozenset[str] = field(default_factory=frozenset)
    party_id: str | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def covers_grid(self, grid_id: str) -> bool:
        return self.role == "admin" or grid_id in self.grids


def mint_token(
    secret: str,
    *,
    sub: str,
    role: str,
    scopes: list[str],
    grids: list[str] | None = None,
    party_id: str | None = None,
    ttl_s: int = 3600,
) -> str:
    """Sign a token; used by the office's identity provider, the demo and the tests."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "scope": " ".join(scopes),
        "grids": grids or [],
        "iat": now,
        "exp": now + ttl_s,
    }
    if party_id:
        claims["party_id"] = party_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class Claims(BaseModel):
    """The claims a principal is made of, with their types checked (strictly: a ``role``
    that is a list or ``grids`` that is a number is an invalid token, not a 500)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    sub: str = Field(min_length=1)
    role: str
    scope: str = ""
    grids: list[str] = Field(default_factory=list)
    party_id: str | None = None


def decode_token(secret: str, token: str) -> Principal:
    raw = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    try:
        claims = Claims.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "claims" for e in exc.errors())
        raise jwt.InvalidTokenError(f"malformed claims: {fields}") from exc
    if claims.role not in ROLES:
        raise jwt.InvalidTokenError("unknown role")
    return Principal(
        sub=claims.sub,
        role=claims.role,
        scopes=frozenset(claims.scope.split()),
        grids=frozenset(claims.grids),
        party_id=claims.party_id,
    )


@dataclass(frozen=True)
class Requirement:
    """What a route's :func:`requires` dependency asks of a caller: ``scope``, and one of
    ``roles`` (None: any role)."""

    scope: str
    roles: frozenset[str] | None = None

    def admits(self, principal: Principal) -> bool:
        return principal.has_scope(self.scope) and (
            self.roles is None or principal.role in self.roles
        )


# The requirement of each dependency made by `requires`, read back by `route_requirements`
# (the app documents 401/403 for those routes; the fuzzer mints tokens they accept).
_REQUIREMENTS: weakref.WeakKeyDictionary[Callable[..., Any], Requirement] = (
    weakref.WeakKeyDictionary()
)


def route_requirements(route: APIRoute) -> list[Requirement]:
    """The :func:`requires` dependencies of ``route`` (direct or nested, e.g. through
    :func:`common.commands.command`), in the order FastAPI resolves them."""
    return list(dict.fromkeys(_requirements(route.dependant)))


def _requirements(dependant: Dependant) -> Iterator[Requirement]:
    for sub in dependant.dependencies:
        yield from _requirements(sub)
        if sub.call is not None:
            try:
                found = _REQUIREMENTS.get(sub.call)
            except TypeError:  # not weakly referenceable: not one of ours
                found = None
            if found is not None:
                yield found


def requires(
    scope: str, *, roles: frozenset[str] | set[str] | None = None
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A FastAPI dependency: a valid token carrying ``scope`` (and one of ``roles``).

    Its :class:`Requirement` is readable from the route (:func:`route_requirements`).
    """

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    ) -> Principal:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "bearer token required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            principal = decode_token(request.app.state.jwt_secret, credentials.credentials)
        except jwt.PyJWTError as exc:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                f"invalid token: {exc}",
                headers={"WWW-Authenticate": "Bearer"},
            ) from exc
        if not principal.has_scope(scope):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"scope {scope!r} required")
        if roles is not None and principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role!r} not allowed")
        return principal

    _REQUIREMENTS[dependency] = Requirement(scope, frozenset(roles) if roles is not None else None)
    return dependency


def main(argv: list[str] | None = None) -> None:
    """``python -m common.auth --secret S --role officer --scope registration:write ...``"""
    parser = argparse.ArgumentParser(description="Mint a bearer token (development and tests)")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--sub", default="dev-user")
    parser.add_argument("--role", required=True, choices=sorted(ROLES))
    parser.add_argument("--scope", action="append", default=[])
    parser.add_argument("--grid", action="append", default=[])
    parser.add_argument("--party-id")
    parser.add_argument("--ttl", type=int, default=3600)
    a = parser.parse_args(argv)
    print(
        mint_token(
            a.secret,
            sub=a.sub,
            role=a.role,
            scopes=a.scope,
            grids=a.grid,
            party_id=a.party_id,
            ttl_s=a.ttl,
        )
    )


if __name__ == "__main__":
    main()
