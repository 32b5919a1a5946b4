"""The service kit's command path: ``command``/``Command.run``, uploads, the Publisher.

A small FastAPI app on a fresh SQLite file with the runtime tables: the routes are
declared the way a service declares them, and the effects are read back as rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, ClassVar

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common.auth import mint_token
from common.clock import FakeClock
from common.commands import Command, command
from common.db import make_engine, make_sessionmaker, outbox, runtime_metadata
from common.envelope import Trace
from common.errors import DomainError
from common.events import Event
from common.http import ObserveRequests, install_error_handlers
from common.idempotency import HEADER, REPLAYED_HEADER
from common.outbox import SEALED_PREFIX
from common.publisher import Publisher
from common.uploads import decode_text, read_body

SECRET = "kit-test-secret-0123456789abcdef0123456789"
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


class ThingNoted(Event):
    name: ClassVar[str] = "kittest.ThingNoted"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "kittest.events"

    thing_id: str

    def subject(self) -> str:
        return self.thing_id


class ThingHeld(Event):
    name: ClassVar[str] = "kittest.ThingHeld"
    version: ClassVar[int] = 1
    topic: ClassVar[str] = "kittest.restricted"

    thing_id: str
    holder_name: str

    def subject(self) -> str:
        return self.thing_id


# Module level: under postponed annotations FastAPI resolves these names from the module.
WriteCall = Annotated[Command, Depends(command("things:write"))]
OfficerCall = Annotated[Command, Depends(command("things:write", roles={"officer"}))]


class ThingIn(BaseModel):
    thing_id: str


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}")
    async with eng.begin() as conn:
        await conn.run_sync(runtime_metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


def _seal(payload: bytes) -> bytes:
    return payload[::-1]


@pytest.fixture
def app(sessions: async_sessionmaker[AsyncSession]) -> FastAPI:
    clock = FakeClock(START)
    publisher = Publisher.of("/services/kittest", clock)
    router = APIRouter()

    @router.post("/things", status_code=201)
    async def note(body: ThingIn, call: WriteCall) -> Any:
        async def action(session: AsyncSession) -> dict[str, Any]:
            (envelope,) = await publisher.stage(session, [ThingNoted(thing_id=body.thing_id)])
            return {"thing_id": body.thing_id, "event_id": envelope.id, "sub": call.principal.sub}

        return await call.run(body, action)

    @router.put("/things/{thing_id}")
    async def upsert(thing_id: str, call: OfficerCall) -> Any:
        async def action(session: AsyncSession) -> tuple[int, dict[str, str]]:
            found = (await session.execute(select(outbox.c.key))).scalars().all()
            await publisher.stage(session, [ThingNoted(thing_id=thing_id)])
            return (200 if thing_id in found else 201), {"thing_id": thing_id}

        return await call.run({"thing_id": thing_id}, action, status_code=None)

    @router.post("/things/{thing_id}/refuse")
    async def refuse(thing_id: str, call: WriteCall) -> Any:
        async def action(session: AsyncSession) -> None:
            await publisher.stage(session, [ThingNoted(thing_id=thing_id)])
            raise DomainError("thing_id", "is not allowed")

        return await call.run({"thing_id": thing_id}, action)

    @router.post("/things/{thing_id}/trace")
    async def trace(thing_id: str, call: WriteCall) -> Any:
        return await call.run({}, lambda _session: _answer(call.trace), status_code=202)

    @router.post("/uploads")
    async def upload(request: Request) -> dict[str, Any]:
        body = await read_body(request, "text/csv", max_bytes=64, advice="split the file")
        return {"text": decode_text(body.content, body.charset)}

    application = FastAPI()
    application.state.runtime = SimpleNamespace(sessionmaker=sessions, clock=clock)
    application.state.jwt_secret = SECRET
    install_error_handlers(application)
    application.add_middleware(ObserveRequests)
    application.include_router(router)
    return application


async def _answer(trace: Trace) -> dict[str, str | None]:
    return {"correlation_id": trace.correlation_id, "traceparent": trace.traceparent}


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as http:
        yield http


def _auth(role: str = "officer", scopes: tuple[str, ...] = ("things:write",)) -> dict[str, str]:
    token = mint_token(SECRET, sub=f"{role}-1", role=role, scopes=list(scopes))
    return {"Authorization": f"Bearer {token}"}


async def _outbox_keys(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        return list((await session.execute(select(outbox.c.key).order_by(outbox.c.id))).scalars())


# ------------------------------------------------------------------------- commands


async def test_a_command_answers_with_the_routes_status_and_replays_a_retry(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**_auth(), HEADER: "k-1"}

    first = await client.post("/things", json={"thing_id": "t-1"}, headers=headers)
    retry = await client.post("/things", json={"thing_id": "t-1"}, headers=headers)

    assert first.status_code == 201
    assert first.json()["sub"] == "officer-1"
    assert retry.status_code == 201
    assert retry.headers[REPLAYED_HEADER] == "true"
    assert retry.json() == first.json()
    assert await _outbox_keys(sessions) == ["t-1"]


async def test_the_same_key_for_another_body_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = {**_auth(), HEADER: "k-1"}
    await client.post("/things", json={"thing_id": "t-1"}, headers=headers)

    reused = await client.post("/things", json={"thing_id": "t-2"}, headers=headers)

    assert reused.status_code == 422
    assert "different request" in reused.text
    assert await _outbox_keys(sessions) == ["t-1"]


async def test_an_action_returning_a_pair_chooses_its_status(
    client: httpx.AsyncClient,
) -> None:
    created = await client.put("/things/t-1", headers={**_auth(), HEADER: "k-1"})
    updated = await client.put("/things/t-1", headers={**_auth(), HEADER: "k-2"})

    assert (created.status_code, updated.status_code) == (201, 200)
    assert updated.json() == {"thing_id": "t-1"}


async def test_a_refused_command_is_a_422_with_the_field_and_stages_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    refused = await client.post("/things/t-1/refuse", headers={**_auth(), HEADER: "k-1"})

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "thing_id"
    assert await _outbox_keys(sessions) == []


async def test_a_command_needs_a_key_a_token_its_scope_and_its_role(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    no_key = await client.post("/things", json={"thing_id": "t"}, headers=_auth())
    no_token = await client.post("/things", json={"thing_id": "t"}, headers={HEADER: "k"})
    no_scope = await client.post(
        "/things", json={"thing_id": "t"}, headers={**_auth(scopes=("x:read",)), HEADER: "k"}
    )
    wrong_role = await client.put("/things/t", headers={**_auth(role="landlord"), HEADER: "k"})

    assert no_key.status_code == 422
    assert HEADER in no_key.text
    assert no_token.status_code == 401
    assert no_scope.status_code == 403
    assert wrong_role.status_code == 403
    assert await _outbox_keys(sessions) == []


async def test_the_trace_is_the_requests_correlation_id_and_traceparent(
    client: httpx.AsyncClient,
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    answer = await client.post(
        "/things/t/trace",
        headers={
            **_auth(),
            HEADER: "k-1",
            "X-Correlation-ID": "corr-7",
            "traceparent": traceparent,
        },
    )

    assert answer.status_code == 202
    assert answer.json() == {"correlation_id": "corr-7", "traceparent": traceparent}


# -------------------------------------------------------------------------- uploads


async def test_an_upload_is_read_with_its_charset(client: httpx.AsyncClient) -> None:
    sent = "名字\r\n王小明\r\n".encode("gb18030")

    answer = await client.post(
        "/uploads", content=sent, headers={"Content-Type": "text/csv; charset=gb18030"}
    )

    assert answer.status_code == 200
    assert answer.json() == {"text": "名字\n王小明\n"}


async def test_an_upload_of_another_type_is_a_415(client: httpx.AsyncClient) -> None:
    answer = await client.post("/uploads", content=b"a", headers={"Content-Type": "text/plain"})

    assert answer.status_code == 415
    assert "text/csv" in answer.text


async def test_an_oversized_upload_is_a_413_naming_the_body(client: httpx.AsyncClient) -> None:
    declared = await client.post(
        "/uploads", content=b"a" * 65, headers={"Content-Type": "text/csv"}
    )

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"a" * 20

    streamed = await client.post("/uploads", content=chunks(), headers={"Content-Type": "text/csv"})

    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json()["detail"][0]["loc"] == ["body"]
        assert "at most 64 bytes per request; split the file" in answer.text


async def test_an_upload_in_the_wrong_encoding_is_a_422(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/uploads", content="王".encode("gb18030"), headers={"Content-Type": "text/csv"}
    )

    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "body"


# ------------------------------------------------------------------------ publisher


def test_restricted_topics_need_a_seal() -> None:
    with pytest.raises(ValueError, match="need a seal"):
        Publisher.of("/services/kittest", FakeClock(START), sealed_topics={"kittest.restricted"})


async def test_the_events_of_one_call_go_in_with_one_insert_and_only_restricted_are_sealed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    publisher = Publisher.of(
        "/services/kittest", FakeClock(START), seal=_seal, sealed_topics={"kittest.restricted"}
    )
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    trace = Trace(correlation_id="corr-1", traceparent=None)
    async with sessions() as session, session.begin():
        envelopes = await publisher.stage(
            session,
            [
                ThingNoted(thing_id="t-1"),
                ThingHeld(thing_id="t-2", holder_name="王小明"),
                ThingNoted(thing_id="t-3"),
            ],
            trace,
        )
        assert await publisher.stage(session, []) == []
    event.remove(engine.sync_engine, "before_cursor_execute", count)

    assert len(inserts) == 1
    assert [e.subject for e in envelopes] == ["t-1", "t-2", "t-3"]
    assert {e.correlation_id for e in envelopes} == {"corr-1"}
    async with sessions() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.id))).all()
    assert [(r.key, r.topic) for r in rows] == [
        ("t-1", "kittest.events"),
        ("t-2", "kittest.restricted"),
        ("t-3", "kittest.events"),
    ]
    assert rows[0].payload.startswith(b"{")
    assert rows[1].payload.startswith(SEALED_PREFIX)
    assert "王小明".encode() not in rows[1].payload
