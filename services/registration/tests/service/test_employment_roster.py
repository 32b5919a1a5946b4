"""Roster (CSV) uploads: valid lines applied, invalid ones reported, repeats recognised."""

from __future__ import annotations

from typing import Any

import pytest
from _employment_helpers import (
    CREDIT_CODE,
    OTHER_CREDIT_CODE,
    bodies,
    csv_of,
    employer,
    hire,
    new_employer,
    upload,
    worker_id,
)
from _registration_helpers import Registration, id_number

from common.db import idempotency_keys, outbox
from registration.adapters.employment_tables import employments, roster_uploads
from registration.adapters.persons_tables import persons

MAX_ROWS = 50
MAX_BYTES = 8_000


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    return {"roster_max_rows": MAX_ROWS, "roster_max_bytes": MAX_BYTES}


async def _state(svc: Registration) -> dict[str, int]:
    return {
        "employments": await svc.count(employments),
        "persons": await svc.count(persons),
        "outbox": await svc.count(outbox),
        "uploads": await svc.count(roster_uploads),
        "keys": await svc.count(idempotency_keys),
    }


def _bad_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


MIXED = [
    ("hire", worker_id(1), "张三", "13800138001", "2026-03-01"),  # 2 ok
    ("hire", worker_id(2), "李四", "", "2026-03-02"),  # 3 ok
    ("hire", _bad_check(worker_id(3)), "王五", "", "2026-03-02"),  # 4 id_number
    ("fire", worker_id(4), "赵六", "", "2026-03-02"),  # 5 action
    ("hire", worker_id(5), "", "", "2026-03-02"),  # 6 name
    ("hire", worker_id(6), "孙七", "", "2026-03-32"),  # 7 date
    ("hire", worker_id(7), "周八", "", "2026-03-05"),  # 8 date (tomorrow)
    ("hire", worker_id(1), "张三", "", "2026-03-02"),  # 9 id_number (already employed)
    ("leave", worker_id(8), "", "", "2026-03-02"),  # 10 id_number (not employed)
    ("leave", worker_id(2), "", "", "2026-03-01"),  # 11 date (before the hire)
    ("leave", worker_id(2), "", "", "2026-03-03"),  # 12 ok
    ("hire", worker_id(2), "李四", "", "2026-03-04"),  # 13 ok (hired again)
    ("hire", worker_id(9), "吴九", "2380013800", "2026-03-02"),  # 14 phone
    ("hire", worker_id(10), "郑十", "", "2026-03-02"),  # 15 ok
]
EXPECTED_ERRORS = [
    (4, "id_number"),
    (5, "action"),
    (6, "name"),
    (7, "date"),
    (8, "date"),
    (9, "id_number"),
    (10, "id_number"),
    (11, "date"),
    (14, "phone"),
]


async def test_valid_lines_are_applied_and_each_invalid_line_is_reported(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)

    response = await upload(svc, employer_id, csv_of(MIXED))

    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows"], report["applied"], report["hires"], report["leaves"]) == (14, 5, 4, 1)
    assert report["rejected"] == len(EXPECTED_ERRORS)
    assert [(e["line"], e["field"]) for e in report["errors"]] == EXPECTED_ERRORS
    assert all(e["reason"] for e in report["errors"])
    assert "already employed" in report["errors"][5]["reason"]
    assert report["already_applied"] is False
    rows = await svc.rows(employments)
    assert len(rows) == 4
    active = sorted(str(r.hired_on) for r in rows if r.left_on is None)
    assert active == ["2026-03-01", "2026-03-02", "2026-03-04"]
    (ended,) = [r for r in rows if r.left_on is not None]
    assert (str(ended.hired_on), str(ended.left_on)) == ("2026-03-02", "2026-03-03")
    assert {r.roster_upload_id for r in rows} == {report["upload_id"]}
    assert await svc.count(persons) == 3
    await svc.drain()
    declared = bodies(svc, "EmploymentDeclared.v1")
    assert len(declared) == 4 and all(d["via_roster"] for d in declared)
    assert len(bodies(svc, "EmploymentEnded.v1")) == 1
    employer_events = [r for r in svc.relayed() if "Person" not in r.headers["ce_type"]]
    assert {r.key for r in employer_events} == {employer_id.encode()}


async def test_the_report_and_the_events_hold_no_identity_numbers_or_names(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)

    response = await upload(svc, employer_id, csv_of(MIXED))
    await svc.drain()

    texts = [response.text, *(r.body.decode() for r in svc.relayed())]
    for _, number, name, phone, _ in MIXED:
        for text in texts:
            assert number not in text
            assert not name or name not in text
            assert not phone or phone not in text


async def test_the_same_file_again_is_recognised_and_not_applied(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    first = await upload(svc, employer_id, csv_of(MIXED))
    before = await _state(svc)

    same_key = await upload(svc, employer_id, csv_of(MIXED))
    new_key = await upload(svc, employer_id, csv_of(MIXED), key="roster-key-2")
    crlf = await upload(svc, employer_id, csv_of(MIXED).replace(b"\n", b"\r\n"), key="roster-key-3")

    assert same_key.status_code == 201
    assert same_key.headers["Idempotent-Replayed"] == "true"
    assert same_key.json() == first.json()
    for repeat in (new_key, crlf):
        assert repeat.status_code == 200, repeat.text
        assert repeat.json()["already_applied"] is True
        assert repeat.json()["upload_id"] == first.json()["upload_id"]
        assert repeat.json()["errors"] == first.json()["errors"]
    after = await _state(svc)
    assert {k: v for k, v in after.items() if k != "keys"} == {
        k: v for k, v in before.items() if k != "keys"
    }


async def test_a_file_that_changed_nothing_may_be_sent_again(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    content = csv_of([("leave", worker_id(1), "", "", "2026-03-03")])
    nothing = await upload(svc, employer_id, content)
    assert (nothing.json()["applied"], nothing.json()["rejected"]) == (0, 1)
    await hire(svc, employer_id, id_number=worker_id(1), hired_on="2026-03-01")

    again = await upload(svc, employer_id, content, key="roster-key-2")

    assert again.status_code == 201
    assert again.json()["applied"] == 1
    assert await svc.count(roster_uploads) == 1


async def test_too_many_rows_is_a_413_and_nothing_is_written(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    before = await _state(svc)
    rows = [("hire", worker_id(i), "A", "", "2026-03-01") for i in range(MAX_ROWS + 1)]
    content = csv_of(rows)
    assert len(content) < MAX_BYTES

    response = await upload(svc, employer_id, content)

    assert response.status_code == 413
    assert f"at most {MAX_ROWS} rows" in response.json()["detail"][0]["msg"]
    assert await _state(svc) == before


async def test_too_many_bytes_is_a_413_and_nothing_is_written(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    before = await _state(svc)
    content = csv_of([("hire", worker_id(1), "A" * 100, "", "2026-03-01")] * 80)
    assert len(content) > MAX_BYTES

    response = await upload(svc, employer_id, content)

    assert response.status_code == 413
    assert f"at most {MAX_BYTES} bytes" in response.json()["detail"][0]["msg"]
    assert await _state(svc) == before


async def test_a_roster_must_be_csv_with_the_documented_header(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    before = await _state(svc)

    as_json = await upload(svc, employer_id, b"{}", content_type="application/json")
    bad_header = await upload(svc, employer_id, b"id,action\n1,hire\n", key="k2")
    not_utf8 = await upload(svc, employer_id, "action,姓名\n".encode("gb18030"), key="k3")

    assert as_json.status_code == 415
    assert bad_header.status_code == 422
    assert bad_header.json()["detail"][0]["loc"] == ["body", "header"]
    assert not_utf8.status_code == 422
    assert not_utf8.json()["detail"][0]["loc"] == ["body", "body"]
    assert await _state(svc) == before


async def test_gb18030_roster_is_read_with_its_charset(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    content = csv_of([("hire", id_number(), "王小明", "", "2026-03-01")]).decode()

    response = await upload(
        svc, employer_id, content.encode("gb18030"), content_type="text/csv; charset=gb18030"
    )

    assert response.status_code == 201, response.text
    (person,) = await svc.rows(persons)
    assert svc.cipher.decrypt(person.name_enc) == "王小明"


async def test_another_employers_token_cannot_upload(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    before = await _state(svc)

    response = await upload(svc, employer_id, csv_of(MIXED), employer(svc, OTHER_CREDIT_CODE))

    assert response.status_code == 403
    assert await _state(svc) == before


async def test_officer_of_the_grid_uploads_for_the_employer(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)

    response = await upload(svc, employer_id, csv_of(MIXED[:2]), svc.auth("officer", grids=("G1",)))

    assert response.status_code == 201
    assert {r.channel for r in await svc.rows(employments)} == {"officer"}
    assert {r.declared_by for r in await svc.rows(employments)} == {"officer-G1"}
    assert CREDIT_CODE  # the employer's own account is not needed
