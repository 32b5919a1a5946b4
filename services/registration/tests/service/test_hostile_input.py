"""Client input that used to be a 500 (issue 7): now a 422 naming the field, nothing changed."""

from __future__ import annotations

import json

import pytest
from _employment_helpers import (
    csv_of,
    file_return,
    hire,
    new_employer,
    register_employer,
    upload,
)
from _places_helpers import sign
from _reconciliation_helpers import entry, post_entries, system
from _registration_helpers import Registration, id_number

from common.db import idempotency_keys


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("name", "Wang\x00Xiaoming", "NUL"),
        ("name", "Wang\ud800", "surrogate"),
        ("room_no", "1\x0001", "NUL"),
        ("phone", "\udfff13800138000", "surrogate"),
    ],
)
async def test_a_nul_or_lone_surrogate_in_a_body_field_is_a_422_naming_it(
    registration: Registration, field: str, value: str, problem: str
) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()

    body = {
        "id_number": id_number(),
        "name": "Wang Xiaoming",
        "phone": "13800138000",
        "room_no": "101",
        "moved_in_on": "2026-03-02",
        field: value,
    }
    response = await svc.client.post(  # as a client sends it: surrogates as \u escapes
        f"/properties/{property_id}/residences",
        content=json.dumps(body),
        headers={**svc.landlord(), "Idempotency-Key": "k1", "Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert problem in error["msg"]
    assert await svc.state() == before


async def test_a_nul_in_a_path_id_or_a_query_is_a_422(registration: Registration) -> None:
    svc = registration
    officer = svc.officer()

    in_path = await svc.client.get("/properties/abc%00def", headers=officer)
    in_query = await svc.client.get("/leads?grid_id=G1%00", headers=officer)

    assert in_path.status_code == 422 and in_path.json()["detail"][0]["loc"] == ["path"]
    assert in_query.status_code == 422
    assert in_query.json()["detail"][0]["loc"] == ["query", "grid_id"]


@pytest.mark.parametrize(
    "path",
    [
        "/employers/E1/employments?",
        # The fuzz suite (tests/fuzz) found these four a 500: each route had its own Offset.
        "/grids?",
        "/properties/without-agreement?grid_id=G1&",
        "/employers/without-agreement?grid_id=G1&",
        "/discoveries?grid_id=G1&",
        "/agreements?property_id=P1&",
    ],
)
async def test_an_offset_past_int64_is_a_422(registration: Registration, path: str) -> None:
    svc = registration
    admin = svc.auth("admin", scopes=("registration:read",), grids=("G1",))
    response = await svc.client.get(f"{path}offset={2**63}", headers=admin)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "offset"]


async def test_deeply_nested_json_on_the_access_control_route_is_a_422(
    registration: Registration,
) -> None:
    svc = registration
    depth = 100_000
    body = '{"entries": [' + "[" * depth + "]" * depth + "]}"

    response = await svc.client.post(
        "/feeds/access-control/entries",
        content=body,
        headers={**system(svc), "Idempotency-Key": "deep", "Content-Type": "application/json"},
    )

    assert response.status_code == 422, response.text
    assert "nested deeper" in response.json()["detail"][0]["msg"]
    assert await svc.count(idempotency_keys) == 0


async def test_an_escaped_backslash_u0000_is_ordinary_text(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()

    response = await svc.declare(property_id, name="Wang \\u0000 Xiaoming")

    assert response.status_code == 201, response.text
    assert json.loads(response.request.content)["name"] == "Wang \\u0000 Xiaoming"
    assert (await post_entries(svc, [])).status_code != 500


# -- dates near the end of Python's calendar (finding 2: "year 10000" overflow) -------------

FAR = "9999-12-31"


async def test_a_move_in_or_out_dated_near_year_9999_is_a_422_naming_the_field(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()
    before = await svc.state()

    move_in = await svc.declare(property_id, moved_in_on=FAR)

    assert move_in.status_code == 422, move_in.text
    assert move_in.json()["detail"][0]["loc"] == ["body", "moved_in_on"]
    assert await svc.state() == before


async def test_a_hire_an_agreement_or_a_return_near_year_9999_is_a_422(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    property_id = await svc.new_property()

    hired = await hire(svc, employer_id, hired_on=FAR)
    agreement = await sign(svc, property_id=property_id, valid_until=FAR)
    returned = await file_return(svc, employer_id, month="9999-12")

    assert hired.status_code == 422, hired.text
    assert hired.json()["detail"][0]["loc"] == ["body", "hired_on"]
    assert agreement.status_code == 422, agreement.text
    assert agreement.json()["detail"][0]["loc"] == ["body", "valid_until"]
    assert returned.status_code == 422, returned.text
    assert returned.json()["detail"][0]["loc"] == ["body", "month"]


@pytest.mark.parametrize(
    "url",
    [
        "/figures/grids/G1?month=9999-12",
        "/figures/community?community=Wentang&until=9999-12",
    ],
)
async def test_a_month_near_year_9999_is_a_422(registration: Registration, url: str) -> None:
    svc = registration

    response = await svc.client.get(url, headers=svc.officer())

    assert response.status_code == 422, response.text


async def test_a_roster_line_dated_near_year_9999_is_refused_alone(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    rows = [
        ("hire", id_number(), "王小明", "13800138000", "2026-03-02"),
        ("hire", id_number(), "李小紅", "13800138001", FAR),
    ]

    response = await upload(svc, employer_id, csv_of(rows))

    assert response.status_code == 201, response.text
    report = response.json()
    assert report["applied"] == 1
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(3, "date")]


async def test_an_access_entry_at_the_end_of_the_calendar_is_refused_alone(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await svc.new_property()

    response = await post_entries(
        svc,
        [
            entry(property_id, id_number()),
            entry(property_id, id_number(), at="9999-12-31T23:59:59-12:00"),
            entry(property_id, id_number(), at="0001-01-01T00:00:00+14:00"),
        ],
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["accepted"], report["rejected"]) == (1, 2)
    assert [(e["index"], e["field"]) for e in report["errors"]] == [(1, "at"), (2, "at")]


# -- references checked in the command's transaction (finding 4) -----------------------------


@pytest.mark.parametrize("grid_id", ["G404", "   "])
async def test_a_property_in_a_grid_the_office_has_not_registered_is_a_422(
    registration: Registration, grid_id: str
) -> None:
    svc = registration
    before = await svc.state()

    officer = svc.auth("officer", scopes=("registration:write",), grids=(grid_id,))
    response = await svc.register_property(officer, grid_id=grid_id)

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "grid_id"]
    assert await svc.state() == before


async def test_an_employer_in_a_grid_the_office_has_not_registered_is_a_422(
    registration: Registration,
) -> None:
    svc = registration

    officer = svc.auth("officer", scopes=("registration:write",), grids=("G404",))
    response = await register_employer(svc, officer, grid_id="G404")

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "grid_id"]
