"""Roster files: an employer's hires and leaves as CSV, checked line by line.

Format (UTF-8, a byte-order mark is allowed; ``charset=gb18030``/``gbk`` in the
Content-Type for files saved by Chinese Excel)::

    action,id_number,name,phone,date
    hire,440306199001011234,王小明,13800138000,2026-03-02
    leave,440306199001015678,,,2026-03-03

``action`` is ``hire`` or ``leave``; ``name`` is required for a hire; ``phone`` is
optional; ``date`` (YYYY-MM-DD) is the hire or leave date. Blank lines are skipped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.csvfile import BadLine, csv_lines
from common.errors import DomainError

HEADER = ("action", "id_number", "name", "phone", "date")
ACTIONS = frozenset({"hire", "leave"})
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_NAME = 100


class RosterTooLarge(Exception):
    """More rows (or bytes) than one upload may carry."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    action: str
    id_number: str
    name: str
    phone: str | None
    day: date


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Roster:
    sha256: str
    rows: int
    valid: list[RosterRow]
    errors: list[RowError]


def parse(text: str, *, max_rows: int) -> Roster:
    """Check the header and every line's shape; domain rules are checked when applied."""
    sha256 = hashlib.sha256(text.strip().encode()).hexdigest()
    records = csv_lines(text)
    _, header = next(records, (0, None))
    if not isinstance(header, list) or tuple(h.strip().lower() for h in header) != HEADER:
        raise DomainError("header", f"the first line must be {','.join(HEADER)}")
    valid: list[RosterRow] = []
    errors: list[RowError] = []
    rows = 0
    for line, cells in records:
        if not isinstance(cells, BadLine) and not any(c.strip() for c in cells):
            continue
        rows += 1
        if rows > max_rows:
            raise RosterTooLarge(f"at most {max_rows} rows per upload; split the file")
        if isinstance(cells, BadLine):
            errors.append(RowError(line, "line", cells.message))
            continue
        if len(cells) != len(HEADER):
            errors.append(RowError(line, "line", f"expected 5 columns, found {len(cells)}"))
            continue
        action, id_number, name, phone, day = (c.strip() for c in cells)
        action = action.lower()
        try:
            if action not in ACTIONS:
                raise DomainError("action", "must be hire or leave")
            if not id_number:
                raise DomainError("id_number", "is required")
            if action == "hire" and not name:
                raise DomainError("name", "is required for a hire")
            if len(name) > MAX_NAME:
                raise DomainError("name", f"at most {MAX_NAME} characters")
            if phone and not PHONE.match(phone):
                raise DomainError("phone", "must be a mainland mobile number (11 digits)")
            try:
                if not DATE.match(day):
                    raise ValueError(day)
                parsed_day = date.fromisoformat(day)
            except ValueError:
                raise DomainError("date", "must be a date written YYYY-MM-DD") from None
        except DomainError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        valid.append(RosterRow(line, action, id_number, name, phone or None, parsed_day))
    return Roster(sha256=sha256, rows=rows, valid=valid, errors=errors)
