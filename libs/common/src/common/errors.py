"""Errors a command raises, and their HTTP answers.

Domain and application code raise these (no HTTP in sight); the service app maps them:
:class:`DomainError` is a 422 naming the input field, :class:`NotFound` a 404,
:class:`Forbidden` a 403, :class:`Conflict` a 409. Every one means *nothing was changed*:
the command's transaction is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    """A command broke a business rule; nothing was changed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(Exception):
    """The resource a command or query names does not exist (or is not the caller's to see)."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class Forbidden(Exception):
    """The caller may not act on this resource (wrong landlord, grid or employer)."""


class Conflict(Exception):
    """The command contradicts the resource's current state (already closed, superseded)."""


def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": "domain_rule"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _status(code: int) -> Callable[[Request, Exception], JSONResponse]:
    def handler(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=code)

    return handler


def install_error_handlers(app: FastAPI) -> None:
    """Map the errors above to their HTTP answers: never a 500 for a broken rule."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(NotFound, _status(404))
    app.add_exception_handler(Forbidden, _status(403))
    app.add_exception_handler(Conflict, _status(409))
