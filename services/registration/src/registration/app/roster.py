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

import re
from dataclasses import dataclass
from datetime import date

from common.csvfile import RowError, read_table
from common.dates import day_problem
from common.errors import DomainError

HEADER = ("action", "id_number", "name", "phone", "date")
ACTIONS = frozenset({"hire", "leave"})
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_NAME = 100


@dataclass(frozen=True)
class RosterRow:
    line: int
    action: str
    id_number: str
    name: str
    phone: str | None
    day: date


@dataclass(frozen=True)
class Roster:
    sha256: str
    rows: int
    valid: list[RosterRow]
    errors: list[RowError]


def parse(text: str, *, max_rows: int) -> Roster:
    """Check the header and every line's shape; domain rules are checked when applied."""
    table = read_table(text, HEADER, max_rows=max_rows, per="upload")
    valid: list[RosterRow] = []
    errors = list(table.errors)
    for line, (action, id_number, name, phone, day) in table.lines:
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
            if problem := day_problem(parsed_day):
                raise DomainError("date", problem)
        except DomainError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        valid.append(RosterRow(line, action, id_number, name, phone or None, parsed_day))
    return Roster(sha256=table.sha256, rows=table.rows, valid=valid, errors=errors)
