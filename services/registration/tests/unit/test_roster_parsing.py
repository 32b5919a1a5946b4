"""Roster CSV files: header, line numbers, per-line shape errors, encodings and limits."""

from __future__ import annotations

from datetime import date

import pytest

from common.csvfile import TooManyRows
from common.errors import DomainError
from common.uploads import decode_text as decode
from registration.app.roster import parse

HEADER = "action,id_number,name,phone,date\n"
ID = "440306199001011236"


def test_valid_lines_become_rows_with_their_line_numbers() -> None:
    text = HEADER + f"hire,{ID},王小明,13800138000,2026-03-02\n\nLEAVE, {ID} ,,,2026-03-03\n"

    roster = parse(text, max_rows=10)

    assert roster.rows == 2
    assert roster.errors == []
    first, second = roster.valid
    assert (first.line, first.action, first.name, first.phone, first.day) == (
        2,
        "hire",
        "王小明",
        "13800138000",
        date(2026, 3, 2),
    )
    assert (second.line, second.action, second.id_number, second.phone) == (4, "leave", ID, None)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (f"fire,{ID},A,,2026-03-02", "action"),
        (f",{ID},A,,2026-03-02", "action"),
        ("hire,,A,,2026-03-02", "id_number"),
        (f"hire,{ID},,,2026-03-02", "name"),
        (f"hire,{ID},{'x' * 101},,2026-03-02", "name"),
        (f"hire,{ID},A,12345,2026-03-02", "phone"),
        (f"hire,{ID},A,,2026-02-30", "date"),
        (f"hire,{ID},A,,20260302", "date"),
        (f"hire,{ID},A,,", "date"),
        (f"hire,{ID},A,2026-03-02", "line"),
        (f"hire,{ID},A,,2026-03-02,extra", "line"),
    ],
)
def test_a_bad_line_is_reported_with_its_number_and_field(line: str, field: str) -> None:
    roster = parse(HEADER + f"hire,{ID},A,,2026-03-01\n" + line + "\n", max_rows=10)

    assert len(roster.valid) == 1
    (error,) = roster.errors
    assert (error.line, error.field) == (3, field)
    assert error.reason


def test_line_numbers_count_physical_lines_of_quoted_fields() -> None:
    text = HEADER + f'hire,{ID},"Two\nLines",,2026-03-01\nhire,x,A,,bad\n'

    roster = parse(text, max_rows=10)

    assert roster.valid[0].line == 3  # the record ends on line 3
    assert roster.errors[0].line == 4


@pytest.mark.parametrize(
    "header",
    ["", "id_number,action,name,phone,date\n", "action,id_number,name,phone\n", "\n"],
)
def test_the_header_must_be_exact(header: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse(header + f"hire,{ID},A,,2026-03-01\n", max_rows=10)
    assert caught.value.field == "header"


def test_header_is_case_and_space_insensitive() -> None:
    assert parse(" Action , ID_NUMBER,name,phone,Date\n", max_rows=1).rows == 0


def test_more_rows_than_allowed_is_refused_as_a_whole() -> None:
    text = HEADER + f"hire,{ID},A,,2026-03-01\n" * 3

    with pytest.raises(TooManyRows, match="at most 2 rows"):
        parse(text, max_rows=2)


def test_content_hash_ignores_line_endings_and_byte_order_mark() -> None:
    body = HEADER + f"hire,{ID},王小明,,2026-03-01\n"
    unix = parse(decode(body.encode(), None), max_rows=5)
    windows = parse(
        decode(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode(), "UTF-8"), max_rows=5
    )

    assert unix.sha256 == windows.sha256
    assert windows.valid[0].name == "王小明"


def test_gb18030_files_from_chinese_excel_are_read_with_their_charset() -> None:
    body = (HEADER + f"hire,{ID},王小明,,2026-03-01\n").encode("gb18030")

    assert parse(decode(body, "gb18030"), max_rows=5).valid[0].name == "王小明"
    with pytest.raises(DomainError, match="charset=gb18030") as caught:
        decode(body, None)
    assert caught.value.field == "body"


def test_unknown_charsets_are_refused() -> None:
    with pytest.raises(DomainError) as caught:
        decode(b"x", "latin-1")
    assert caught.value.field == "charset"


def test_a_field_over_the_csv_limit_or_a_nul_is_that_lines_error_and_the_rest_is_read() -> None:
    huge = "x" * 200_000
    text = (
        HEADER
        + f"hire,{ID},{huge},,2026-03-02\n"
        + f"hire,{ID},A\x00B,,2026-03-02\n"
        + f"hire,{ID},王小明,,2026-03-02\n"
    )

    roster = parse(text, max_rows=10)

    assert roster.rows == 3
    assert [(e.line, e.field) for e in roster.errors] == [(2, "line"), (3, "line")]
    assert "field limit" in roster.errors[0].reason and "NUL" in roster.errors[1].reason
    assert [r.line for r in roster.valid] == [4]
