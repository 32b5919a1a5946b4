"""The fuzzer finds what it is for: a service with one planted defect per kind.

``planted`` is a service on the kit (the example's settings and migrations, routes of
its own): an operation raising on some input (a 500), one committing a row and then
refusing (a state change on a refused request), one answering a status code its
document does not give, one answering a body its documented schema forbids, and one
without defect. Fuzzed like every service, each defective operation must be reported
with its kind of finding, the clean one with none.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from common.auth import Principal, requires
from common.errors import Conflict
from common.fuzzing import Budget, Fuzzer
from common.service import Kit, Parts, Service
from noticeboard.main import service as noticeboard
from noticeboard.settings import NoticeboardSettings
from noticeboard.tables import grid_buildings

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

Reader = Annotated[Principal, Depends(requires("planted:read"))]


class BuildingIn(BaseModel):
    property_id: str = Field(min_length=1, max_length=36, pattern=r"^[a-z0-9]+$")
    grid_id: str = Field(max_length=50)


class Shape(BaseModel):
    count: int


def wire(kit: Kit[NoticeboardSettings]) -> Parts:
    router = APIRouter()
    sessions = kit.runtime.sessionmaker

    @router.get("/divide/{n}")
    async def divide(n: int, _caller: Reader) -> dict[str, float]:
        return {"share": 100 / (n % 7)}  # ZeroDivisionError for a multiple of 7

    @router.post("/buildings", status_code=201)
    async def add_building(body: BuildingIn, _caller: Reader) -> dict[str, str]:
        async with sessions() as session, session.begin():
            await session.execute(
                grid_buildings.insert().values(property_id=body.property_id, grid_id="G")
            )
        raise Conflict("committed, then refused")  # a 409 that changed the database

    @router.get("/teapot")
    async def teapot(_caller: Reader) -> JSONResponse:
        return JSONResponse({"detail": "short and stout"}, status_code=418)

    @router.get("/shape", response_model=Shape)
    async def shape(_caller: Reader) -> JSONResponse:
        return JSONResponse({"count": "many"})  # the document promises an integer

    @router.get("/fine/{word}")
    async def fine(word: str, _caller: Reader) -> dict[str, Any]:
        return {"word": word, "length": len(word)}

    return Parts(routers=[router])


planted = Service(
    name="planted",
    version="0",
    title="Planted defects",
    description="A service whose every operation but one has a defect the fuzzer must find.",
    settings=NoticeboardSettings,
    migrations=noticeboard.migrations,
    topics=(),
    wire=wire,
)

BUDGET = Budget(positive=30, negative=0, landlord=0, bad_tokens=1)


def kinds(fuzzer: Fuzzer, label: str) -> set[str]:
    return {finding.kind for finding in fuzzer.fuzz(label).findings.values()}


def test_the_fuzzer_reports_each_planted_defect_and_nothing_else(pg_url: str) -> None:
    with Fuzzer(planted, pg_url, budget=BUDGET) as fuzzer:
        divide = fuzzer.fuzz("GET /divide/{n}")
        (server_error,) = [f for f in divide.findings.values() if f.kind == "server error"]
        assert "ZeroDivisionError" in server_error.detail
        assert f'{__file__}", line' in server_error.detail  # the line that raised
        assert server_error.curl.startswith("curl -X GET")

        assert "state change on a refused request" in kinds(fuzzer, "POST /buildings")
        assert "check: Undocumented status code" in kinds(fuzzer, "GET /teapot")
        assert "check: Response violates schema" in kinds(fuzzer, "GET /shape")
        assert kinds(fuzzer, "GET /fine/{word}") == set()
