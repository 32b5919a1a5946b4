"""Refuse, with a 422 naming the field, client text no store or encoder can take.

PostgreSQL refuses ``\\x00`` in text, a lone UTF-16 surrogate (``"\\ud800"`` in JSON)
cannot be encoded as UTF-8 (not even in the 422 that would echo it), and JSON nested a
few thousand deep makes the parser raise ``RecursionError``: each used to be a 500.
:class:`GuardRequests` checks the path, the query and JSON bodies before any route sees
them, so every service built on :func:`common.http.create_service_app` is covered, its
string fields included, whatever their type.

The common case costs little: a body is only parsed here when a byte scan finds a
``\\u0000`` or surrogate escape or more brackets than a sane document nests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_DEPTH = 32
"""Deepest JSON nesting accepted (the platform's documents nest four or five deep)."""

MAX_GUARDED_BYTES = 16 * 1024 * 1024
"""JSON bodies up to this size are checked; larger ones go on to the route's own limit."""

INT64_MAX = 2**63 - 1

Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Rows to skip")]
"""A paging offset: a number PostgreSQL's ``bigint`` holds (past it was a 500)."""

_SUSPECT = re.compile(rb"\\u0000|\\u[dD][89abcdefABCDEF]")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    match = _BAD_TEXT.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "must not contain a NUL character (\\u0000)"
    return "must not contain an unpaired UTF-16 surrogate"


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if len(path) > MAX_DEPTH:
        yield path, f"is nested deeper than {MAX_DEPTH} levels"
        return
    if isinstance(value, str):
        problem = bad_text(value)
        if problem:
            yield path, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = bad_text(key)
            if problem:
                yield (*path, key.encode("utf-8", "backslashreplace").decode()), problem
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))


def body_problem(body: bytes) -> tuple[list[str | int], str] | None:
    """The first field of a JSON body that must be refused, and why; None if none is."""
    if not _SUSPECT.search(body) and body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return None
    try:
        document = json.loads(body)
    except RecursionError:
        return ["body"], f"is nested deeper than {MAX_DEPTH} levels"
    except ValueError:
        return None  # not JSON: the route's own parser says so (422)
    for path, problem in _walk(document, ()):
        return ["body", *path], problem
    return None


def _query_problem(query_string: bytes) -> tuple[list[str | int], str] | None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        problem = bad_text(value) or bad_text(name)
        if problem:
            return ["query", name.replace("\x00", "")], problem
    return None


async def _refuse(send: Send, loc: list[str | int], problem: str) -> None:
    body = json.dumps(
        {"detail": [{"loc": loc, "msg": f"{loc[-1]} {problem}", "type": "value_error"}]},
        ensure_ascii=True,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GuardRequests:
    """Pure ASGI middleware: NUL, lone surrogates and runaway nesting are a 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if bad_text(path):
            await _refuse(send, ["path"], bad_text(path) or "")
            return
        query = _query_problem(scope.get("query_string", b""))
        if query is not None:
            await _refuse(send, *query)
            return
        headers = dict(scope.get("headers") or ())
        if b"json" not in headers.get(b"content-type", b"").lower():
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > MAX_GUARDED_BYTES:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = bytearray()
        more = True
        while more and len(body) <= MAX_GUARDED_BYTES:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if not more:
            problem = body_problem(bytes(body))
            if problem is not None:
                await _refuse(send, *problem)
                return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
