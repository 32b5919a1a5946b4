"""``Idempotency-Key`` for HTTP commands.

The key, a fingerprint of the request and the response are stored in the same
transaction as the command's state change: a retry with the same key gets the first
response back and changes nothing; the same key with a different request is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, HTTPException, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common import metrics
from common.auth import Principal
from common.clock import Clock
from common.db import ConcurrentWrite, idempotency_keys, is_transient_conflict

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "Idempotent-Replayed"

Action = Callable[[AsyncSession], Awaitable[tuple[int, Any]]]


def _unprocessable(msg: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["header", HEADER], "msg": msg, "type": "value_error"}],
    )


async def idempotency_key(
    key: Annotated[
        str,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=MAX_KEY_LENGTH,
            description="Unique per command; retries reuse it",
        ),
    ],
) -> str:
    """FastAPI dependency: the required, well-formed ``Idempotency-Key`` header.

    Declared required, and bounded, so the OpenAPI document says so (FastAPI refuses a
    missing or overlong key with its own 422, ``loc`` naming the header); the checks
    below are those of a direct call."""
    if key is None or not key.strip():
        raise _unprocessable("Idempotency-Key header is required for commands")
    if len(key) > MAX_KEY_LENGTH:
        raise _unprocessable(f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
    return key.strip()


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


MAX_ATTEMPTS = 4
"""Runs of a command that lost races with concurrent transactions before it answers 409."""


async def run_idempotent(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    principal: Principal,
    key: str,
    request_fingerprint: str,
    clock: Clock,
    action: Action,
) -> JSONResponse:
    """Run ``action`` once per (principal, key); it gets the session of its transaction.

    A run that loses a race with a concurrent transaction (see
    :func:`common.db.is_transient_conflict`) is rolled back and run again from the start,
    a few times, with jittered backoff; a request whose key a concurrent request already
    used gets that request's response. Past :data:`MAX_ATTEMPTS` the answer is 409.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with sessionmaker() as session, session.begin():
                prior = await _stored(session, principal, key)
                if prior is not None:
                    return _replay(prior, request_fingerprint)
                status_code, body = await action(session)
                body = jsonable_encoder(body)
                await session.execute(
                    _INSERT_KEY,
                    {
                        "principal": principal.sub,
                        "key": key,
                        "fingerprint": request_fingerprint,
                        "status_code": status_code,
                        "body": body,
                        "created_at": clock.now(),
                    },
                )
            return JSONResponse(body, status_code=status_code)
        except Exception as exc:
            if not is_transient_conflict(exc):
                raise
            # The same key used concurrently: that request's transaction holds the only
            # effect, ours was rolled back.
            async with sessionmaker() as session:
                prior = await _stored(session, principal, key)
            if prior is not None:
                return _replay(prior, request_fingerprint)
            metrics.COMMAND_CONFLICTS.inc()
            if attempt == MAX_ATTEMPTS:
                if isinstance(exc, ConcurrentWrite):
                    raise HTTPException(
                        status.HTTP_409_CONFLICT,
                        f"{exc}; the command was not applied, retry it with the same {HEADER}",
                    ) from exc
                raise
            await asyncio.sleep(random.uniform(0, 0.02 * 2**attempt))
    raise AssertionError("unreachable")


# Built once: every command runs both, and SQLAlchemy then skips walking them again.
_SELECT_KEY = select(idempotency_keys).where(
    idempotency_keys.c.principal == bindparam("principal"),
    idempotency_keys.c.key == bindparam("key"),
)
_INSERT_KEY = insert(idempotency_keys)


async def _stored(session: AsyncSession, principal: Principal, key: str) -> Any:
    return (await session.execute(_SELECT_KEY, {"principal": principal.sub, "key": key})).first()


def _replay(prior: Any, request_fingerprint: str) -> JSONResponse:
    if prior.fingerprint != request_fingerprint:
        raise _unprocessable("Idempotency-Key was already used for a different request")
    return JSONResponse(
        prior.body, status_code=prior.status_code, headers={REPLAYED_HEADER: "true"}
    )
