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
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.specification import AsyncAPI, get_asyncapi_html
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common import metrics
from common.envelope import new_traceparent
from common.runtime import Runtime

CORRELATION_HEADER = "X-Correlation-ID"


@dataclass(frozen=True)
class RequestContext:
    correlation_id: str
    traceparent: str


def request_context(request: Request) -> RequestContext:
    """FastAPI dependency: the correlation id and trace context of this request."""
    return RequestContext(
        correlation_id=request.state.correlation_id,
        traceparent=request.headers.get("traceparent") or new_traceparent(),
    )


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

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
        request.state.correlation_id = correlation_id
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            response = await call_next(request)
        route = request.scope.get("route")
        metrics.HTTP_SECONDS.labels(
            request.method, getattr(route, "path", "unmatched"), str(response.status_code)
        ).observe(time.perf_counter() - started)
        response.headers[CORRELATION_HEADER] = correlation_id
        return response

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
