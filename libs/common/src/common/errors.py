"""Errors a command raises (pure: domain code imports them).

Domain and application code raise these; the service app (:mod:`common.http`) maps them:
:class:`DomainError` is a 422 naming the input field, :class:`NotFound` a 404,
:class:`Forbidden` a 403, :class:`Conflict` a 409. Every one means *nothing was changed*:
the command's transaction is rolled back.
"""

from __future__ import annotations


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
