"""CSV uploads read line by line, a line that cannot be read being that line's error.

The ``csv`` module raises on a field over its size limit (131,072 characters) and, in
older versions, on a NUL; either used to fail the whole upload with a 500. Here each is
the error of its own line, the rest of the file is read on, and a cell holding a NUL
(which PostgreSQL cannot store as text) is an error of its line too.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass


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
