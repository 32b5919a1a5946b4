"""Bearer tokens: who is calling, and the ``requires`` guard on routes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from common.auth import ALGORITHM, Principal, decode_token, mint_token, requires

SECRET = "test-secret-0123456789-0123456789-abcdef"


def test_minted_token_decodes_to_the_principal() -> None:
    token = mint_token(
        SECRET,
        sub="officer-7",
        role="officer",
        scopes=["registration:read", "pii:read"],
        grids=["G1", "G2"],
    )

    assert decode_token(SECRET, token) == Principal(
        sub="officer-7",
        role="officer",
        scopes=frozenset({"registration:read", "pii:read"}),
        grids=frozenset({"G1", "G2"}),
        party_id=None,
    )


def test_landlord_token_carries_the_party_it_acts_for() -> None:
    token = mint_token(SECRET, sub="u1", role="landlord", scopes=[], party_id="L-42")

    principal = decode_token(SECRET, token)

    assert principal.party_id == "L-42"
    assert principal.scopes == frozenset()
    assert principal.grids == frozenset()


def test_expired_token_is_rejected() -> None:
    token = mint_token(SECRET, sub="u1", role="officer", scopes=[], ttl_s=-10)

    with pytest.raises(jwt.ExpiredSignatureError):
        decode_token(SECRET, token)


def test_token_signed_with_another_secret_is_rejected() -> None:
    token = mint_token("another-secret-0123456789-0123456789", sub="u1", role="admin", scopes=[])

    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(SECRET, token)


def test_minting_for_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        mint_token(SECRET, sub="u1", role="superuser", scopes=[])


def test_token_with_an_unknown_role_is_rejected() -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "u1", "role": "superuser", "exp": now + 60}, SECRET, algorithm=ALGORITHM
    )

    with pytest.raises(jwt.InvalidTokenError, match="unknown role"):
        decode_token(SECRET, token)


@pytest.mark.parametrize(
    "claims",
    [
        {"role": ["admin"]},
        {"role": 7},
        {"grids": 5},
        {"grids": "G1"},
        {"grids": [1, 2]},
        {"scope": ["pii:read"]},
        {"party_id": {"id": "L1"}},
        {"sub": 12},
        {"sub": ""},
    ],
)
def test_correctly_signed_claims_of_the_wrong_type_are_an_invalid_token(
    claims: dict[str, object],
) -> None:
    body = {"sub": "u1", "role": "officer", "exp": int(time.time()) + 60, **claims}
    token = jwt.encode(body, SECRET, algorithm=ALGORITHM)

    with pytest.raises(jwt.InvalidTokenError):  # PyJWT checks `sub` itself, we the rest
        decode_token(SECRET, token)


async def test_a_token_with_a_list_for_its_role_is_401_not_500(client: httpx.AsyncClient) -> None:
    body = {"sub": "u1", "role": ["admin"], "scope": "things:read", "exp": int(time.time()) + 60}
    token = jwt.encode(body, SECRET, algorithm=ALGORITHM)

    response = await client.get("/read", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert "role" in response.json()["detail"]


def test_token_without_expiry_is_rejected() -> None:
    token = jwt.encode({"sub": "u1", "role": "admin"}, SECRET, algorithm=ALGORITHM)

    with pytest.raises(jwt.MissingRequiredClaimError):
        decode_token(SECRET, token)


def test_admin_covers_every_grid_others_only_their_own() -> None:
    admin = Principal(sub="a", role="admin")
    worker = Principal(sub="w", role="grid_worker", grids=frozenset({"G1"}))

    assert admin.covers_grid("G9")
    assert worker.covers_grid("G1")
    assert not worker.covers_grid("G2")


# --------------------------------------------------------------------------- requires


def _app() -> FastAPI:
    app = FastAPI()
    app.state.jwt_secret = SECRET

    @app.get("/read")
    async def read(principal: Annotated[Principal, Depends(requires("things:read"))]) -> dict:
        return {"sub": principal.sub, "role": principal.role}

    @app.get("/office")
    async def office(
        principal: Annotated[
            Principal, Depends(requires("things:read", roles={"officer", "admin"}))
        ],
    ) -> dict:
        return {"sub": principal.sub}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def _bearer(role: str = "officer", scopes: tuple[str, ...] = ("things:read",), **kw: int) -> dict:
    token = mint_token(SECRET, sub="caller", role=role, scopes=list(scopes), **kw)
    return {"Authorization": f"Bearer {token}"}


async def test_request_without_token_is_401_with_bearer_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/read")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_request_with_non_bearer_credentials_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/read", headers={"Authorization": "Basic dXNlcjpwdw=="})

    assert response.status_code == 401


async def test_request_with_invalid_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/read", headers={"Authorization": "Bearer not-a-jwt"})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("invalid token")


async def test_request_with_expired_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/read", headers=_bearer(ttl_s=-5))

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_token_without_the_scope_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/read", headers=_bearer(scopes=("other:read",)))

    assert response.status_code == 403
    assert "things:read" in response.json()["detail"]


async def test_token_with_the_scope_but_a_role_not_allowed_is_403(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/office", headers=_bearer(role="landlord"))

    assert response.status_code == 403
    assert "landlord" in response.json()["detail"]


async def test_token_with_scope_and_role_is_let_through(client: httpx.AsyncClient) -> None:
    read = await client.get("/read", headers=_bearer(role="landlord"))
    office = await client.get("/office", headers=_bearer(role="officer"))

    assert read.status_code == 200
    assert read.json() == {"sub": "caller", "role": "landlord"}
    assert office.status_code == 200
