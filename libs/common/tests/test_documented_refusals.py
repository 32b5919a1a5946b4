"""The OpenAPI document names every answer the kit gives: the refusals of the guard, the
token check, the error handlers and hand-read bodies, and what a route's token needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from common.auth import Principal, Requirement, requires, route_requirements
from common.commands import Command, command
from common.http import REQUIRES_EXTENSION
from common.service import Kit, Parts, Service
from common.settings import ServiceSettings
from common.uploads import read_body


class DocSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOCKIT_", extra="ignore")

    database_url: str = "sqlite+aiosqlite://"


class ParcelIn(BaseModel):
    weight: int


Reader = Annotated[Principal, Depends(requires("parcels:read"))]


def wire(kit: Kit[DocSettings]) -> Parts:
    router = APIRouter()

    @router.get("/parcels/{parcel_id}")
    async def read(parcel_id: str, _caller: Reader) -> dict[str, str]:
        return {"parcel_id": parcel_id}

    @router.post("/parcels", status_code=201)
    async def ship(
        body: ParcelIn,
        cmd: Annotated[Command, Depends(command("parcels:write", roles={"officer", "admin"}))],
    ) -> Any:
        return {}

    @router.post(
        "/manifests",
        openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    )
    async def upload(request: Request, _caller: Reader) -> dict[str, int]:
        body = await read_body(request, "text/csv", 1000)
        return {"bytes": len(body.content)}

    @router.get("/open")
    async def open_() -> dict[str, str]:
        return {}

    return Parts(routers=[router])


service = Service(
    name="dockit",
    version="1",
    title="Documented refusals",
    description="",
    settings=DocSettings,
    migrations=Path("migrations"),  # never run here
    topics=(),
    wire=wire,
)


def document() -> dict[str, Any]:
    result: dict[str, Any] = service.create_app().openapi()
    return result


def responses(path: str, method: str) -> dict[str, str]:
    """Status code -> the schema component of its JSON body ('' when inline)."""
    found = {}
    for code, answer in document()["paths"][path][method]["responses"].items():
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        found[code] = schema.get("$ref", "").rsplit("/", 1)[-1]
    return found


def test_a_guarded_query_documents_the_token_refusals_and_not_found() -> None:
    assert responses("/parcels/{parcel_id}", "get") == {
        "200": "",
        "401": "Refusal",
        "403": "Refusal",
        "404": "Refusal",
        "422": "HTTPValidationError",
    }


def test_a_command_documents_conflict_and_an_unreadable_body() -> None:
    assert set(responses("/parcels", "post")) == {"201", "400", "401", "403", "404", "409", "422"}


def test_a_hand_read_body_documents_too_large_and_wrong_media_type() -> None:
    assert {"413", "415"} <= set(responses("/manifests", "post"))


def test_a_route_without_parameters_documents_the_guards_422() -> None:
    assert responses("/open", "get") == {"200": "", "404": "Refusal", "422": "Invalid"}
    assert responses("/healthz", "get") == {"200": "", "422": "Invalid"}
    assert responses("/readyz", "get") == {"200": "Readiness", "422": "Invalid", "503": "Readiness"}


def test_the_document_says_what_each_routes_token_needs() -> None:
    paths = document()["paths"]
    assert paths["/parcels/{parcel_id}"]["get"][REQUIRES_EXTENSION] == [{"scope": "parcels:read"}]
    assert paths["/parcels"]["post"][REQUIRES_EXTENSION] == [
        {"scope": "parcels:write", "roles": ["admin", "officer"]}
    ]
    assert REQUIRES_EXTENSION not in paths["/open"]["get"]


def test_the_idempotency_key_is_documented_required_and_bounded() -> None:
    (key,) = [
        p for p in document()["paths"]["/parcels"]["post"]["parameters"] if p["in"] == "header"
    ]
    assert key["name"] == "Idempotency-Key"
    assert key["required"] is True
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 200)


def test_route_requirements_are_found_through_nested_dependencies() -> None:
    router = APIRouter()

    @router.post("/x")
    async def x(cmd: Annotated[Command, Depends(command("x:write", roles={"system"}))]) -> None:
        return None

    (route,) = router.routes
    assert isinstance(route, APIRoute)
    assert route_requirements(route) == [Requirement("x:write", frozenset({"system"}))]
