"""The request guard: text no store can take and runaway nesting are refused, naming where."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from common.guard import MAX_DEPTH, GuardRequests, Offset, bad_text, body_problem


def test_ordinary_text_passes_and_nul_or_lone_surrogates_do_not() -> None:
    assert bad_text("王小明 No. 12") is None
    assert bad_text("\U0001f600") is None  # a paired surrogate in JSON is one code point
    assert "NUL" in (bad_text("a\x00b") or "")
    assert "surrogate" in (bad_text("a\ud800") or "")


@pytest.mark.parametrize(
    ("document", "loc"),
    [
        ({"a": {"b": ["ok", "x\x00"]}}, ["body", "a", "b", 1]),
        ({"name": "\udc00"}, ["body", "name"]),
        ({"k\x00": 1}, ["body", "k\x00"]),
    ],
)
def test_body_problem_names_the_field(document: object, loc: list[object]) -> None:
    problem = body_problem(json.dumps(document).encode())
    assert problem is not None and problem[0] == loc


def test_nesting_is_refused_past_the_limit_and_accepted_up_to_it() -> None:
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert body_problem(ok.encode()) is None
    deep = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)
    assert body_problem(deep.encode()) == (
        ["body", *[0] * (MAX_DEPTH + 1)],
        f"is nested deeper than {MAX_DEPTH} levels",
    )
    huge = "[" * 200_000 + "]" * 200_000
    assert body_problem(huge.encode()) == (["body"], f"is nested deeper than {MAX_DEPTH} levels")


def test_a_body_that_is_not_json_is_left_to_the_route() -> None:
    assert body_problem(b"\\u0000 {{{ not json") is None


class Note(BaseModel):
    text: str


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = FastAPI()

    @app.post("/notes")
    async def post_note(note: Note) -> dict[str, str]:
        return {"text": note.text}

    @app.get("/notes")
    async def list_notes(offset: Offset = 0) -> dict[str, int]:
        return {"offset": offset}

    app.add_middleware(GuardRequests)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_the_middleware_refuses_with_422_and_lets_good_requests_through(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Content-Type": "application/json"}
    good = await client.post("/notes", content=json.dumps({"text": "hi"}), headers=headers)
    nul = await client.post("/notes", content=json.dumps({"text": "h\x00i"}), headers=headers)
    surrogate = await client.post("/notes", content=b'{"text": "\\ud800"}', headers=headers)
    query = await client.get("/notes?offset=1%00")
    too_far = await client.get(f"/notes?offset={2**63}")

    assert (good.status_code, good.json()) == (200, {"text": "hi"})
    assert nul.status_code == surrogate.status_code == query.status_code == 422
    assert nul.json()["detail"][0]["loc"] == ["body", "text"]
    assert surrogate.json()["detail"][0]["loc"] == ["body", "text"]
    assert query.json()["detail"][0]["loc"] == ["query", "offset"]
    assert too_far.status_code == 422
