"""Domain errors: a broken rule names the input field it is about."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a business rule; nothing was changed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(Exception):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what = what
        self.ident = ident


class Forbidden(Exception):
    """The caller may not act on this resource (wrong landlord, grid or employer)."""
