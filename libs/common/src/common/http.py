"""The FastAPI application shell every service shares.

Lifespan (broker, relay, timers), ``/healthz``, ``/readyz``, ``/metrics``, the AsyncAPI
document at ``/asyncapi`` (HTML) and ``/asyncapi.json``, request metrics, and a
correlation id bound to every log line of a request.

The OpenAPI document lists, for every route, the refusals the kit itself answers with
(see :func:`refusals`), so a client (and the fuzzer, :mod:`common.fuzzing`) knows every
status code a route may give and the shape of its body.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.utils import get_flat_params
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from faststream.specification import AsyncAPI, get_asyncapi_html
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import metrics
from common.auth import route_requirements
from common.db import is_database_unavailable
from common.errors import Conflict, DomainError, Forbidden, NotFound
from common.guard import GuardRequests
from common.runtime import Runtime

CORRELATION_HEADER = "X-Correlation-ID"


class ObserveRequests:
    """Correlation id (bound to every log line) and latency metrics for each request.

    A pure ASGI middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a
    memory stream per request, a measurable share of a declaration's CPU.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = dict(scope["headers"]).get(CORRELATION_HEADER.lower().encode())
        correlation_id = raw.decode() if raw else str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.lower().encode(), correlation_id.encode()),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                metrics.HTTP_SECONDS.labels(
                    scope["method"], getattr(route, "path", "unmatched"), str(status)
                ).observe(time.perf_counter() - started)


def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    # "rows.3.room_no" -> ["body", "rows", 3, "room_no"]: list indexes as pydantic gives them
    loc = [int(part) if part.isdigit() else part for part in exc.field.split(".")]
    detail = [{"loc": ["body", *loc], "msg": exc.message, "type": "domain_rule"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _status(code: int) -> Callable[[Request, Exception], JSONResponse]:
    def handler(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=code)

    return handler


class Problem(BaseModel):
    """One thing wrong with a request: where (``loc``), what (``msg``), which rule (``type``)."""

    loc: list[str | int]
    msg: str
    type: str


class Refusal(BaseModel):
    """A refused request (4xx): a message, or the problems of the fields at fault."""

    detail: str | list[Problem]


class Invalid(BaseModel):
    """A 422 of a route without parameters (FastAPI's ``HTTPValidationError`` elsewhere)."""

    detail: list[Problem]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


def _refusal(description: str) -> dict[str, Any]:
    return {"model": Refusal, "description": description}


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refusals(route: APIRoute, *, service_route: bool = True) -> dict[int | str, dict[str, Any]]:
    """The 4xx answers the kit gives on ``route``, for its OpenAPI document:

    * 422 on every route: :class:`common.guard.GuardRequests` refuses unstorable text in
      any path or query (FastAPI documents it, as ``HTTPValidationError``, only for
      routes with parameters or a body model);
    * 401 and 403 on a route guarded by :func:`common.auth.requires` (or
      :func:`common.commands.command`), whose handler may also raise
      :class:`common.errors.Forbidden`;
    * on a service's route (``service_route``): 404 (:class:`common.errors.NotFound`, for
      a resource named in its path, query or body), and 409
      (:class:`common.errors.Conflict`, a command's: POST, PUT, PATCH, DELETE);
    * 400 on a route with a body model: FastAPI's answer to a body it cannot decode;
    * 413 and 415 on a route that reads its body by hand (:func:`common.uploads.read_body`),
      which is a route declaring its ``requestBody`` itself (``openapi_extra``).

    A route's own ``responses`` come first: it may document any of them better.
    """
    found: dict[int | str, dict[str, Any]] = {}
    if not (get_flat_params(route.dependant) or route.body_field):
        found[422] = {"model": Invalid, "description": "Validation Error"}
    if route_requirements(route):
        found[401] = _refusal("No valid bearer token (missing, malformed, expired)")
        found[403] = _refusal("The token's scope or role, or its grids or party, do not allow it")
    if service_route:
        found[404] = _refusal("Not found, or not the caller's to see")
        if (route.methods or set()) & UNSAFE_METHODS:
            found[409] = _refusal("Contradicts the resource's current state; nothing changed")
    if route.body_field is not None:
        found[400] = _refusal("The body could not be read (not UTF-8 text)")
    if "requestBody" in (route.openapi_extra or {}):
        found[413] = _refusal("The body is larger than the route takes")
        found[415] = _refusal("The body is not of the media type the route takes")
    return found


REQUIRES_EXTENSION = "x-requires"
"""The operation's authorization in its OpenAPI document: ``[{"scope": ..., "roles":
[...]}]`` (no ``roles``: any role), one per :func:`common.auth.requires` of the route (a
client learns what its token needs; the fuzzer mints such tokens)."""


def document_refusals(router: APIRouter, *, service_routes: bool = True) -> None:
    """Add :func:`refusals` to the ``responses`` of each route of ``router``, and its
    requirements as :data:`REQUIRES_EXTENSION` (before the router is included: the app's
    routes are built from them, their models with them)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        route.responses = {**refusals(route, service_route=service_routes), **route.responses}
        requirements = route_requirements(route)
        if requirements:
            route.openapi_extra = {
                REQUIRES_EXTENSION: [
                    {"scope": r.scope, **({"roles": sorted(r.roles)} if r.roles else {})}
                    for r in requirements
                ],
                **(route.openapi_extra or {}),
            }


DATABASE_UNAVAILABLE = "database unavailable"

NOT_GATING = frozenset({"broker"})
"""Readiness checks reported but not failing ``/readyz``: with the outbox a service takes
commands while Kafka is away (they are published when it is back), so a broker outage
must not take every replica out of its Service; ``checks.broker`` and the
``outbox_lag_seconds`` gauge say it is away."""
#: Exceptions an unreachable database surfaces as (:func:`common.db.is_database_unavailable`
#: decides): SQLAlchemy's errors, and a connection refused before SQLAlchemy got one.
_DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, ConnectionError, socket.gaierror)


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 ``{"detail": "database unavailable"}`` when the database cannot be reached (a
    retry with the same Idempotency-Key applies a command once, even if the connection
    broke while it committed); any other database error is raised on, a 500."""
    if not is_database_unavailable(exc):
        raise exc
    structlog.get_logger(__name__).warning(
        "http.database_unavailable",
        method=request.method,
        path=request.url.path,
        error_type=type(exc).__name__,
        error=str(exc)[:300],
    )
    return JSONResponse(
        {"detail": DATABASE_UNAVAILABLE}, status_code=503, headers={"Retry-After": "1"}
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map :mod:`common.errors` to their HTTP answers: never a 500 for a broken rule, nor
    for a database that is down or restarting (a 503)."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(NotFound, _status(404))
    app.add_exception_handler(Forbidden, _status(403))
    app.add_exception_handler(Conflict, _status(409))
    for error in _DATABASE_ERRORS:
        app.add_exception_handler(error, _database_unavailable)


def asyncapi_document(runtime: Runtime, *, title: str, version: str, description: str) -> Any:
    """The service's AsyncAPI specification (FastStream's generator)."""
    return AsyncAPI(
        runtime.broker,
        title=title,
        version=version,
        description=description,
        schema_version="3.0.0",
    ).to_specification()


def create_service_app(
    runtime: Runtime,
    *,
    title: str,
    version: str,
    description: str,
    routers: Sequence[APIRouter],
    on_startup: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if on_startup is not None:
            await on_startup()
        structlog.get_logger().info(
            "service.started", broker=runtime.settings.kafka_bootstrap_servers
        )
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.jwt_secret = runtime.settings.jwt_secret.get_secret_value()

    install_error_handlers(app)
    app.add_middleware(GuardRequests)
    app.add_middleware(ObserveRequests)

    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @ops.get(
        "/readyz",
        summary="Readiness: database and broker reachable",
        responses={
            200: {"model": Readiness, "description": "Ready"},
            503: {"model": Readiness, "description": "Not ready: the failing checks say why"},
        },
    )
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for k, v in checks.items() if k not in NOT_GATING)
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    spec = asyncapi_document(runtime, title=title, version=version, description=description)

    @ops.get("/asyncapi.json", summary="AsyncAPI document of the service's events")
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(spec.to_jsonable())

    @ops.get("/asyncapi", summary="AsyncAPI document, rendered", response_class=HTMLResponse)
    async def asyncapi_html() -> HTMLResponse:
        return HTMLResponse(get_asyncapi_html(spec))

    document_refusals(ops, service_routes=False)
    app.include_router(ops)
    for router in routers:
        document_refusals(router)
        app.include_router(router)
    return app
