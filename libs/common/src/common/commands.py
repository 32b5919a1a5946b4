"""The HTTP command path: who calls, with which key, under which trace; then run once.

A command route declares one dependency and makes one call::

    @router.post("/properties", status_code=201)
    async def register_property(body: PropertyIn, cmd: Command = Depends(command(WRITE))):
        return await cmd.run(body, lambda session: service.register(session, ..., cmd.trace))

:func:`command` checks the token (scope, and roles if given), requires an
``Idempotency-Key`` and takes the request's correlation id and trace context;
:meth:`Command.run` runs the action once per key in one transaction (replaying the first
response to a retry, see :mod:`common.idempotency`) and answers with its result. The
action gets the transaction's session and stages its events with the service's
:class:`common.publisher.Publisher`; nothing forces a statement per row or a session per
call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from common.auth import Principal, requires
from common.envelope import Trace, new_traceparent
from common.idempotency import fingerprint, idempotency_key, run_idempotent


def request_trace(request: Request) -> Trace:
    """The correlation id (set by the app's middleware) and W3C trace context of a request."""
    return Trace(
        correlation_id=request.state.correlation_id,
        traceparent=request.headers.get("traceparent") or new_traceparent(),
    )


ROUTE_STATUS = -1
"""``Command.run``'s default: answer with the status code the route declares."""


@dataclass(frozen=True)
class Command:
    """One HTTP command in flight: its caller, key and trace; :meth:`run` applies it."""

    request: Request
    principal: Principal
    key: str
    trace: Trace

    async def run(
        self,
        body: BaseModel | Any,
        action: Callable[[Any], Awaitable[Any]],
        *,
        status_code: int | None = ROUTE_STATUS,
    ) -> JSONResponse:
        """Run ``action(session)`` once per Idempotency-Key; answer with what it returned,
        under the route's declared status code or ``status_code`` (with ``None``, the
        action returns the pair
        ``(status_code, body)``, for a command whose answer depends on what it found).
        ``body`` (the validated request body, or what stands for it) fingerprints the
        request with its method and path: the same key with another request is a 422."""
        runtime = self.request.app.state.runtime
        payload = body.model_dump() if isinstance(body, BaseModel) else body

        if status_code == ROUTE_STATUS:
            route = self.request.scope.get("route")
            status_code = getattr(route, "status_code", None) or status.HTTP_200_OK

        async def apply(session: Any) -> tuple[int, Any]:
            result = await action(session)
            if status_code is None:
                code, answer = result
                return int(code), answer
            return status_code, result

        return await run_idempotent(
            runtime.sessionmaker,
            principal=self.principal,
            key=self.key,
            clock=runtime.clock,
            action=apply,
            request_fingerprint=fingerprint(self.request.method, self.request.url.path, payload),
        )


def command(
    scope: str, *, roles: Collection[str] | None = None
) -> Callable[..., Coroutine[Any, Any, Command]]:
    """A FastAPI dependency: the :class:`Command` of a caller holding ``scope`` (and one of
    ``roles``), with a required Idempotency-Key."""
    authorized = requires(scope, roles=set(roles) if roles is not None else None)

    # Defaults, not Annotated: under postponed annotations FastAPI could not resolve a
    # closure's name (``authorized``) from a string.
    async def dependency(
        request: Request,
        principal: Principal = Depends(authorized),  # noqa: B008
        key: str = Depends(idempotency_key),
    ) -> Command:
        return Command(request, principal, key, request_trace(request))

    return dependency
