"""Employers register and declare hires and leaves: state, events, access, validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from _employment_helpers import (
    CREDIT_CODE,
    OTHER_CREDIT_CODE,
    bodies,
    employer,
    hire,
    leave,
    new_employer,
    register_employer,
    worker_id,
)
from _persons_helpers import OTHER_ID, correct, staff
from _registration_helpers import Registration, id_number
from sqlalchemy import select

from common.db import idempotency_keys, outbox, timers
from common.pii import mask_id_number
from registration.adapters.employment_tables import employers, employments
from registration.adapters.persons_tables import persons


async def _state(svc: Registration) -> dict[str, int]:
    return {
        "employers": await svc.count(employers),
        "employments": await svc.count(employments),
        "persons": await svc.count(persons),
        "outbox": await svc.count(outbox),
        "timers": await svc.count(timers),
        "keys": await svc.count(idempotency_keys),
    }


# -- registering an employer --------------------------------------------------------------


async def test_employer_registers_itself_and_its_first_return_deadline_is_armed(
    registration: Registration,
) -> None:
    svc = registration

    response = await register_employer(svc)

    assert response.status_code == 201, response.text
    result = response.json()
    assert result["credit_code"] == CREDIT_CODE
    assert result["first_return"] == {"month": "2026-03", "due_at": "2026-04-04T16:00:00+00:00"}
    (row,) = await svc.rows(employers)
    assert (row.id, row.credit_code, row.grid_id, row.channel) == (
        result["employer_id"],
        CREDIT_CODE,
        "G1",
        "employer_self_declaration",
    )
    (timer,) = await svc.rows(timers)
    assert (timer.kind, timer.key, timer.done_at) == (
        "employer-return",
        f"{row.id}/2026-03",
        None,
    )
    assert timer.due_at.replace(tzinfo=UTC) == datetime(2026, 4, 4, 16, tzinfo=UTC)
    assert timer.payload == {"employer_id": row.id, "month": "2026-03"}


async def test_employer_registered_is_published_keyed_by_the_employer_id(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    await svc.drain()

    (record,) = svc.relayed()
    assert record.headers["ce_type"] == "registration.EmployerRegistered.v1"
    assert record.key == employer_id.encode()
    assert record.headers["ce_subject"] == employer_id
    body = json.loads(record.body)
    assert (body["credit_code"], body["channel"], body["grid_id"]) == (
        CREDIT_CODE,
        "employer_self_declaration",
        "G1",
    )


async def test_office_staff_register_employers_in_their_grids_only(
    registration: Registration,
) -> None:
    svc = registration
    officer = svc.auth("officer", grids=("G1",))

    inside = await register_employer(svc, officer, key="k1")
    outside = await register_employer(
        svc, svc.auth("grid_worker", grids=("G2",)), key="k2", credit_code=OTHER_CREDIT_CODE
    )
    admin = await register_employer(
        svc, svc.auth("admin"), key="k3", credit_code=OTHER_CREDIT_CODE, grid_id="G9"
    )

    assert inside.status_code == 201, inside.text
    assert outside.status_code == 403
    assert admin.status_code == 201, admin.text
    rows = {r.credit_code: r.channel for r in await svc.rows(employers)}
    assert rows == {CREDIT_CODE: "officer", OTHER_CREDIT_CODE: "officer"}


@pytest.mark.parametrize(
    "headers",
    [
        {"role": "employer", "party_id": OTHER_CREDIT_CODE},
        {"role": "employer", "party_id": None},
        {"role": "landlord", "party_id": CREDIT_CODE},
        {"role": "person", "party_id": CREDIT_CODE},
    ],
    ids=["other-employer", "employer-without-party", "landlord", "person"],
)
async def test_only_the_employer_itself_may_self_register(
    registration: Registration, headers: dict[str, str | None]
) -> None:
    svc = registration
    caller = svc.auth(str(headers["role"]), party_id=headers["party_id"])

    response = await register_employer(svc, caller)

    assert response.status_code == 403, response.text
    assert await svc.count(employers) == 0


@pytest.mark.parametrize(
    ("credit_code", "reason"),
    [
        (CREDIT_CODE[:17] + ("0" if CREDIT_CODE[17] != "0" else "1"), "check character"),
        ("91441900MA4W1234O" + "1", "'O'"),
        ("91441900MA4W1234", "18 characters"),
    ],
    ids=["wrong-check-character", "letter-O", "too-short"],
)
async def test_invalid_credit_code_is_a_422_on_credit_code_and_writes_nothing(
    registration: Registration, credit_code: str, reason: str
) -> None:
    svc = registration

    response = await register_employer(
        svc, svc.auth("officer", grids=("G1",)), credit_code=credit_code
    )

    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "credit_code"]
    assert reason in error["msg"]
    assert set((await _state(svc)).values()) == {0}


async def test_a_credit_code_is_registered_once(registration: Registration) -> None:
    svc = registration
    first = await new_employer(svc)

    again = await register_employer(svc, svc.auth("admin"), key="k2")

    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "credit_code"]
    assert first in again.json()["detail"][0]["msg"]
    assert await svc.count(employers) == 1


async def test_registration_retry_with_the_same_key_replays(registration: Registration) -> None:
    svc = registration
    first = await register_employer(svc)

    retry = await register_employer(svc)

    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert await svc.count(employers) == 1


async def test_employer_commands_need_an_idempotency_key(registration: Registration) -> None:
    svc = registration
    response = await svc.client.post(
        "/employers",
        json={"credit_code": CREDIT_CODE, "name": "A", "grid_id": "G1", "address": "B"},
        headers=employer(svc),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


# -- hires and leaves ---------------------------------------------------------------------


async def test_hire_records_the_employment_and_the_person_encrypted(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)

    response = await hire(svc, employer_id)

    assert response.status_code == 201, response.text
    result = response.json()
    assert result["id_number_masked"] == mask_id_number(id_number())
    (row,) = await svc.rows(employments)
    assert (row.id, row.employer_id, row.person_ref, row.left_on, row.channel) == (
        result["employment_id"],
        employer_id,
        result["person_ref"],
        None,
        "employer_self_declaration",
    )
    (person,) = await svc.rows(persons)
    assert person.person_ref == result["person_ref"]
    assert svc.cipher.decrypt(person.name_enc) == "王小明"
    assert id_number().encode() not in person.id_number_enc


async def test_employment_declared_carries_the_pseudonym_and_masked_number_only(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    result = (await hire(svc, employer_id)).json()
    await svc.drain()

    record = svc.relayed()[-1]
    assert record.headers["ce_type"] == "registration.EmploymentDeclared.v1"
    assert record.key == employer_id.encode()
    payload = json.loads(record.body)
    assert payload["person_ref"] == result["person_ref"]
    assert payload["id_number_masked"] == mask_id_number(id_number())
    assert id_number().encode() not in record.body
    assert "王小明".encode() not in record.body and b"\\u738b" not in record.body
    assert b"13800138000" not in record.body
    assert not {"id_number", "name", "phone"} & payload.keys()


async def test_a_person_is_not_hired_twice_while_employed(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    assert (await hire(svc, employer_id)).status_code == 201
    before = await _state(svc)

    again = await hire(svc, employer_id, key="hire-key-2", hired_on="2026-03-03")

    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "id_number"]
    assert "already employed" in again.json()["detail"][0]["msg"]
    assert await _state(svc) == before


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"hired_on": "2026-03-05"}, ["body", "hired_on"]),  # tomorrow
        ({"id_number": id_number()[:17] + "0"}, ["body", "id_number"]),
        ({"name": "   "}, ["body", "name"]),
        ({"phone": "123"}, ["body", "phone"]),
        ({"employer": "x"}, ["body", "employer"]),
    ],
    ids=["future", "check-character", "blank-name", "bad-phone", "extra-field"],
)
async def test_invalid_hire_is_a_422_naming_the_field_and_writes_nothing(
    registration: Registration, overrides: dict[str, str], loc: list[str]
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    before = await _state(svc)

    response = await hire(svc, employer_id, **overrides)

    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["detail"]]
    assert await _state(svc) == before


async def test_leave_ends_the_employment_and_is_published(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    employment_id = (await hire(svc, employer_id)).json()["employment_id"]

    response = await leave(svc, employer_id, employment_id)

    assert response.status_code == 200, response.text
    assert response.json()["left_on"] == "2026-03-03"
    (row,) = await svc.rows(employments)
    assert (str(row.left_on), row.ended_by) == ("2026-03-03", "employer-" + CREDIT_CODE)
    await svc.drain()
    (ended,) = bodies(svc, "EmploymentEnded.v1")
    assert (ended["employment_id"], ended["hired_on"], ended["left_on"]) == (
        employment_id,
        "2026-03-02",
        "2026-03-03",
    )
    assert svc.relayed()[-1].key == employer_id.encode()
    # and the person may be hired again
    assert (
        await hire(svc, employer_id, key="hire-key-2", hired_on="2026-03-04")
    ).status_code == 201


async def test_leave_needs_an_active_employment_and_a_date_after_the_hire(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    employment_id = (await hire(svc, employer_id)).json()["employment_id"]

    before_hire = await leave(svc, employer_id, employment_id, left_on="2026-03-01")
    future = await leave(svc, employer_id, employment_id, key="k2", left_on="2026-03-05")
    assert (await leave(svc, employer_id, employment_id, key="k3")).status_code == 200
    twice = await leave(svc, employer_id, employment_id, key="k4")
    unknown = await leave(svc, employer_id, "no-such-employment", key="k5")

    assert before_hire.status_code == 422
    assert before_hire.json()["detail"][0]["loc"] == ["body", "left_on"]
    assert future.status_code == 422
    assert future.json()["detail"][0]["loc"] == ["body", "left_on"]
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", "employment_id"]
    assert unknown.status_code == 404


async def test_another_employers_token_is_refused_everywhere(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    employment_id = (await hire(svc, employer_id)).json()["employment_id"]
    intruder = employer(svc, OTHER_CREDIT_CODE)
    before = await _state(svc)

    responses = [
        await hire(svc, employer_id, intruder, key="x1", id_number=worker_id(7)),
        await leave(svc, employer_id, employment_id, intruder, key="x2"),
        await svc.client.get(f"/employers/{employer_id}", headers=intruder),
        await svc.client.get(f"/employers/{employer_id}/employments", headers=intruder),
        await svc.client.get(f"/employers/{employer_id}/returns", headers=intruder),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert await _state(svc) == before


async def test_an_employment_of_another_employer_is_not_found(registration: Registration) -> None:
    svc = registration
    mine = await new_employer(svc)
    theirs = await new_employer(svc, key="k2", credit_code=OTHER_CREDIT_CODE)
    their_employment = (await hire(svc, theirs, employer(svc, OTHER_CREDIT_CODE), key="h2")).json()[
        "employment_id"
    ]

    response = await leave(svc, mine, their_employment)

    assert response.status_code == 404
    (row,) = await svc.rows(employments)
    assert row.left_on is None


async def test_grid_staff_act_for_employers_of_their_grid_only(registration: Registration) -> None:
    svc = registration
    employer_id = await new_employer(svc)

    inside = await hire(svc, employer_id, svc.auth("grid_worker", grids=("G1",)))
    outside = await hire(
        svc, employer_id, svc.auth("officer", grids=("G2",)), key="h2", id_number=worker_id(1)
    )
    landlord = await hire(svc, employer_id, svc.landlord(), key="h3", id_number=worker_id(2))

    assert inside.status_code == 201
    assert outside.status_code == 403
    assert landlord.status_code == 403
    (row,) = await svc.rows(employments)
    assert row.channel == "officer"


async def test_employer_view_counts_and_lists_employments_pseudonymously(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    first = (await hire(svc, employer_id)).json()
    await hire(svc, employer_id, key="h2", id_number=worker_id(1), hired_on="2026-03-03")
    await leave(svc, employer_id, first["employment_id"])

    view = await svc.client.get(f"/employers/{employer_id}", headers=employer(svc))
    active = await svc.client.get(f"/employers/{employer_id}/employments", headers=employer(svc))
    every = await svc.client.get(
        f"/employers/{employer_id}/employments?active=false", headers=employer(svc)
    )

    assert view.status_code == 200
    assert (view.json()["active_employments"], view.json()["employments_declared"]) == (1, 2)
    assert [e["id_number_masked"] for e in active.json()["employments"]] == [
        mask_id_number(worker_id(1))
    ]
    assert len(every.json()["employments"]) == 2
    assert worker_id(1) not in active.text and id_number() not in every.text
    assert "王小明" not in every.text
    async with svc.runtime.sessionmaker() as session:
        refs = set((await session.scalars(select(employments.c.person_ref))).all())
    assert {e["person_ref"] for e in every.json()["employments"]} == refs


async def test_unknown_employer_is_404(registration: Registration) -> None:
    svc = registration
    assert (await svc.client.get("/employers/nope", headers=svc.auth("admin"))).status_code == 404
    assert (await hire(svc, "nope", svc.auth("admin"))).status_code == 404


async def test_an_identity_correction_shows_in_the_employers_list(
    registration: Registration,
) -> None:
    svc = registration
    employer_id = await new_employer(svc)
    hired = (await hire(svc, employer_id)).json()

    response = await correct(
        svc,
        hired["person_ref"],
        {"id_number": OTHER_ID, "reason": "digits swapped at the counter"},
        staff(svc, "pii:write"),
    )
    listed = await svc.client.get(f"/employers/{employer_id}/employments", headers=employer(svc))

    assert response.status_code == 200, response.text
    assert [e["id_number_masked"] for e in listed.json()["employments"]] == [
        mask_id_number(OTHER_ID)
    ]
