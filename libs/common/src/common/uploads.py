"""Request bodies read by hand (CSV files, large JSON batches): bounded, typed, decoded.

A route that takes a file reads it with :func:`read_body` (415 for another media type,
413 above the limit, checked on ``Content-Length`` first and then on the bytes as they
arrive, so an oversized upload is never held whole) and turns it into text with
:func:`decode_text` (UTF-8, with or without BOM, or a Chinese legacy charset a
spreadsheet may save as; anything else is a 422 naming ``charset`` or ``body``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from common.errors import DomainError
from common.identifiers import ascii_digits

CHARSETS = frozenset({"utf-8", "utf8", "gb18030", "gbk", "gb2312"})
"""Charsets of uploaded text: UTF-8, and those Chinese office software saves CSV files in."""


@dataclass(frozen=True)
class Body:
    content: bytes
    charset: str | None


def too_large(message: str) -> HTTPException:
    """A 413 whose detail names the body, in the shape of a validation error."""
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, [{"loc": ["body"], "msg": message, "type": "too_large"}]
    )


async def read_body(
    request: Request, media_type: str, max_bytes: int, *, advice: str = "split it"
) -> Body:
    """The request's body, refused with another media type (415) or above ``max_bytes``
    (413; ``advice`` ends the message, such as "split the file")."""
    given, _, params = request.headers.get("content-type", "").partition(";")
    if given.strip().lower() != media_type:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send Content-Type: {media_type}"
        )
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    limit = f"at most {max_bytes} bytes per request; {advice}"
    declared = request.headers.get("content-length", "")
    if ascii_digits(declared) and int(declared) > max_bytes:
        raise too_large(limit)
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > max_bytes:
            raise too_large(limit)
    return Body(bytes(content), charset)


def decode_text(content: bytes, charset: str | None) -> str:
    """The text of an upload, with ``\\n`` line ends; a wrong encoding is a 422."""
    encoding = (charset or "utf-8").strip().lower()
    if encoding not in CHARSETS:
        raise DomainError("charset", f"use one of {', '.join(sorted(CHARSETS))}")
    try:
        text = content.decode("utf-8-sig" if encoding.startswith("utf") else encoding)
    except UnicodeDecodeError as exc:
        raise DomainError(
            "body",
            f"is not {encoding} text (byte {exc.start}); save the file as UTF-8, or send "
            "Content-Type: text/csv; charset=gb18030",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
