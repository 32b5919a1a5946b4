"""Errors raised by commands map to their HTTP answers, never to a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from common.errors import Conflict, DomainError, Forbidden, NotFound
from common.http import install_error_handlers


def app_raising(exc: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/command")
    async def command() -> None:
        raise exc

    return app


@pytest.mark.parametrize(
    ("exc", "status", "detail"),
    [
        (
            DomainError("rooms.0.capacity", "must be at least 1"),
            422,
            [
                {
                    "loc": ["body", "rooms", 0, "capacity"],  # an index, as pydantic gives it
                    "msg": "must be at least 1",
                    "type": "domain_rule",
                }
            ],
        ),
        (NotFound("property", "P-1"), 404, "property P-1 not found"),
        (
            Forbidden("grid G2 is outside the caller's grids"),
            403,
            "grid G2 is outside the caller's grids",
        ),
        (Conflict("the lead is already closed"), 409, "the lead is already closed"),
    ],
)
async def test_each_error_has_its_status_and_detail(
    exc: Exception, status: int, detail: object
) -> None:
    transport = httpx.ASGITransport(app=app_raising(exc))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/command")
    assert response.status_code == status
    assert response.json() == {"detail": detail}
