"""Text rules shared by every identifier a client types: identity numbers, credit codes,
months, byte counts.

Clients send full-width digits (U+FF10 to U+FF19), superscripts (``²``) and other Unicode
digits that ``str.isdigit`` accepts and ``int`` may refuse. An identifier is normalised
with NFKC first (a full-width four becomes ``4``, so the two spellings of one number are one
person), and then validated on ASCII digits only: what is still not ASCII is refused.
"""

from __future__ import annotations

import unicodedata


def normalise_code(raw: str) -> str:
    """``raw`` in NFKC form, stripped and upper-cased: the one spelling of a code."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def ascii_digits(text: str) -> bool:
    """True if ``text`` is one or more ASCII digits ``0``-``9`` (``²`` and ``٣`` are not)."""
    return text.isascii() and text.isdigit()
