"""CloudEvents 1.0 envelope in Kafka binary content mode.

The attributes travel as ``ce_*`` headers and the body is the event's JSON, so any
CloudEvents SDK, or a bare Kafka client, can read our events without our code.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


MAX_ID_LENGTH = 200
"""Longest ``ce_id`` accepted (the inbox's column): CloudEvents allows any non-empty
string, producers here send UUIDs; a longer one is refused as poison, not stored."""


CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")
"""What CloudEvents forbids in a String attribute; in a ``ce_id`` it is refused as
poison (the inbox could not even remember it: PostgreSQL's text holds no NUL)."""


class EnvelopeError(ValueError):
    """A message whose headers are not a valid CloudEvent."""


@dataclass(frozen=True)
class Trace:
    """Where a command or event came from: the correlation id and W3C trace context.

    A request's comes from its headers (:func:`common.commands.request_trace`), an event's
    from its envelope (:meth:`of`); events staged while handling either carry it on.
    """

    correlation_id: str | None = None
    traceparent: str | None = None

    @classmethod
    def of(cls, envelope: Envelope) -> Trace:
        return cls(envelope.correlation_id, envelope.traceparent)


def header_text(value: str | bytes) -> str:
    """A header value as text; :class:`EnvelopeError` if its bytes are not UTF-8."""
    if isinstance(value, str):
        return value
    try:
        return value.decode()
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"a header value is not UTF-8 text: {value[:64]!r}") from exc


def new_traceparent() -> str:
    """A fresh W3C trace context (version 00, sampled)."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    traceparent: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        pairs = [
            ("ce_specversion", SPEC_VERSION),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.isoformat()),
            ("ce_subject", self.subject),
            ("content-type", CONTENT_TYPE),
            ("ce_correlationid", self.correlation_id or self.id),
            ("traceparent", self.traceparent or new_traceparent()),
        ]
        return [(k, v.encode()) for k, v in pairs]

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]
    ) -> Envelope:
        items = headers.items() if isinstance(headers, Mapping) else headers
        h = {k: header_text(v) for k, v in items if k.startswith("ce_") or k == "traceparent"}
        missing = [n for n in ("ce_id", "ce_type", "ce_source", "ce_specversion") if not h.get(n)]
        if missing:
            raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
        if len(h["ce_id"]) > MAX_ID_LENGTH:
            raise EnvelopeError(f"ce_id is longer than {MAX_ID_LENGTH} characters")
        if CONTROL_CHARACTERS.search(h["ce_id"]):
            raise EnvelopeError(f"ce_id has a control character: {h['ce_id'][:64]!r}")
        if h["ce_specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported ce_specversion {h['ce_specversion']!r}")
        try:
            time = datetime.fromisoformat(h["ce_time"]) if h.get("ce_time") else datetime.now(UTC)
        except ValueError as exc:
            raise EnvelopeError(f"ce_time is not an RFC 3339 time: {h['ce_time']!r}") from exc
        return cls(
            id=h["ce_id"],
            type=h["ce_type"],
            source=h["ce_source"],
            subject=h.get("ce_subject", ""),
            time=time,
            correlation_id=h.get("ce_correlationid"),
            traceparent=h.get("traceparent"),
        )
