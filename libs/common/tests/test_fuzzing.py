"""The fuzzer's parts that need no server: its tokens, and how it sees the database change.

The fuzzer itself runs in ``tests/fuzz`` (every service, on PostgreSQL).
"""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from common.auth import Requirement, decode_token
from common.fuzzing import (
    SECRET,
    Identity,
    bad_tokens,
    caller_for,
    changes,
    snapshot,
    table_names,
    token,
)

SCOPES = ["things:read", "things:write"]


@pytest.mark.parametrize("identity", bad_tokens(SCOPES), ids=lambda i: i.name)
def test_every_bad_token_is_one_the_service_refuses(identity: Identity) -> None:
    header = identity.authorization
    if header is None or not header.startswith("Bearer ") or not header.removeprefix("Bearer "):
        return  # no bearer token at all: the route's HTTPBearer finds none (401)
    with pytest.raises(jwt.InvalidTokenError):
        decode_token(SECRET, header.removeprefix("Bearer "))


def test_a_valid_token_carries_the_scopes_grids_and_party() -> None:
    identity = token("landlord", SCOPES)
    assert identity.valid and identity.authorization is not None
    principal = decode_token(SECRET, identity.authorization.removeprefix("Bearer "))
    assert principal.role == "landlord"
    assert principal.scopes == frozenset(SCOPES)
    assert principal.grids and principal.party_id


@pytest.mark.parametrize(
    ("requirements", "role"),
    [
        ([], "admin"),
        ([Requirement("things:read")], "admin"),
        ([Requirement("things:read", frozenset({"officer", "grid_worker"}))], "officer"),
        ([Requirement("things:write", frozenset({"system"}))], "system"),
        (
            [
                Requirement("things:read", frozenset({"admin", "system"})),
                Requirement("things:write", frozenset({"system", "officer"})),
            ],
            "system",
        ),
    ],
)
def test_the_caller_is_of_a_role_every_requirement_admits(
    requirements: list[Requirement], role: str
) -> None:
    identity = caller_for(requirements, SCOPES)
    assert identity.name == role
    assert identity.authorization is not None
    principal = decode_token(SECRET, identity.authorization.removeprefix("Bearer "))
    assert all(r.admits(principal) for r in requirements)


def test_changes_name_each_table_whose_rows_changed() -> None:
    before = {"a": (1, 10), "b": (2, 20), "c": (0, 0)}
    after = {"a": (1, 10), "b": (2, 21), "c": (1, 5)}
    assert changes(before, after) == ["b: rows changed (2 rows)", "c: 0 -> 1 rows"]
    assert changes(before, dict(before)) == []


async def test_the_snapshot_counts_the_rows_of_every_table_the_database_has() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE one (x INTEGER)"))
            await conn.execute(text('CREATE TABLE "two words" (x INTEGER)'))
            await conn.execute(text("INSERT INTO one VALUES (1), (2)"))
        tables = await table_names(engine)
        assert tables == ["one", "two words"]
        assert await snapshot(engine, tables) == {"one": (2, 0), "two words": (0, 0)}
    finally:
        await engine.dispose()
