"""The FastAPI application shell every service shares.

Lifespan (broker, relay, timers), ``/healthz``, ``/readyz``, ``/metrics``, the AsyncAPI
document at ``/asyncapi`` (HTML) and ``/asyncapi.json``, request metrics, and a
correlation id bound to every log line of a request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification import AsyncAPI, get_asyncapi_html
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import metrics
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
    detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": "domain_rule"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _status(code: int) -> Callable[[Request, Exception], JSONResponse]:
    def handler(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=code)

    return handler


def install_error_handlers(app: FastAPI) -> None:
    """Map :mod:`common.errors` to their HTTP answers: never a 500 for a broken rule."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(NotFound, _status(404))
    app.add_exception_handler(Forbidden, _status(403))
    app.add_exception_handler(Conflict, _status(409))


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

    @ops.get("/readyz", summary="Readiness: database and broker reachable")
    async def readyz() -> JSONResponse:
        checks = await runtime.readiness()
        ready = all(v == "ok" for v in checks.values())
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

    app.include_router(ops)
    for router in routers:
        app.include_router(router)
    return app
