"""CSV uploads read line by line, a line that cannot be read being that line's error.

The ``csv`` module raises on a field over its size limit (131,072 characters) and, in
older versions, on a NUL; either used to fail the whole upload with a 500. Here each is
the error of its own line, the rest of the file is read on, and a cell holding a NUL
(which PostgreSQL cannot store as text) is an error of its line too.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import DomainError


@dataclass(frozen=True)
class BadLine:
    """A line that could not be read as CSV, and why (said to the uploader)."""

    line: int
    message: str


def csv_lines(text: str) -> Iterator[tuple[int, list[str] | BadLine]]:
    """``(line number, cells)`` for each record of ``text``, or a :class:`BadLine`."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, BadLine(reader.line_num, f"is not a readable CSV line: {exc}")
            continue
        if any("\x00" in c for c in cells):
            yield reader.line_num, BadLine(reader.line_num, "contains a NUL character")
            continue
        yield reader.line_num, cells


class TooManyRows(Exception):
    """More rows than one upload may carry (answered 413: split the file)."""


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of an upload, by field (said to the uploader)."""

    line: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class CsvTable:
    """An upload read to the shape of its header: its lines' stripped cells, and the
    errors of the lines that are not of that shape. Each service checks the cells."""

    sha256: str
    rows: int
    lines: list[tuple[int, list[str]]]
    errors: list[RowError]


def read_table(text: str, header: Sequence[str], *, max_rows: int, per: str) -> CsvTable:
    """Check the header line, skip blank lines, and keep each line of ``len(header)``
    cells; :class:`TooManyRows` past ``max_rows`` non-blank lines ("rows per ``per``").
    ``sha256`` identifies the content (an upload applied twice is recognised)."""
    sha256 = hashlib.sha256(text.strip().encode()).hexdigest()
    records = csv_lines(text)
    _, first = next(records, (0, None))
    if not isinstance(first, list) or tuple(h.strip().lower() for h in first) != tuple(header):
        raise DomainError("header", f"the first line must be {','.join(header)}")
    lines: list[tuple[int, list[str]]] = []
    errors: list[RowError] = []
    rows = 0
    for line, cells in records:
        if not isinstance(cells, BadLine) and not any(c.strip() for c in cells):
            continue
        rows += 1
        if rows > max_rows:
            raise TooManyRows(f"at most {max_rows} rows per {per}; split the file")
        if isinstance(cells, BadLine):
            errors.append(RowError(line, "line", cells.message))
        elif len(cells) != len(header):
            errors.append(
                RowError(line, "line", f"expected {len(header)} columns, found {len(cells)}")
            )
        else:
            lines.append((line, [c.strip() for c in cells]))
    return CsvTable(sha256, rows, lines, errors)
