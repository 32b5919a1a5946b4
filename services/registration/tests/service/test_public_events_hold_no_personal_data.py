"""Every event on the public topic, in a scenario touching every path that names a person,
carries no identity number, name or phone - those go to the restricted topic only."""

from __future__ import annotations

import json

from _employment_helpers import hire, new_employer, register_employer, worker_id
from _persons_helpers import (
    OTHER_ID,
    THIRD_ID,
    correct,
    derived_ref,
    finding,
    move_out,
    person_token,
    publish_finding,
)
from _registration_helpers import Registration, id_number

from registration.events import TOPIC

PEOPLE = {
    # identity number: (name, phone)
    id_number(): ("王小明", "13800138000"),
    OTHER_ID: ("李娜", "13700137000"),
    THIRD_ID: ("Zhang Wei", "13600136000"),
    worker_id(7): ("陈静", "13500135000"),
}
CORRECTED = ("王晓明", "13900139000", worker_id(8))


def forms(secret: str) -> list[bytes]:
    """A value as it could appear in a JSON body: raw UTF-8, or \\u-escaped."""
    return [secret.encode(), json.dumps(secret).strip('"').encode()]


async def run_scenario(svc: Registration) -> None:
    home = await svc.new_property()
    elsewhere = await svc.new_property(key="prop-key-2")
    # A landlord declares; the person declares themself; an officer finds a third.
    landlord = await svc.declare(home)
    assert landlord.status_code == 201, landlord.text
    me = person_token(svc, derived_ref(svc, OTHER_ID))
    name, phone = PEOPLE[OTHER_ID]
    mine = await svc.declare(
        home, me, key="k-self", id_number=OTHER_ID, name=name, phone=phone, room_no="102"
    )
    assert mine.status_code == 201, mine.text
    name, phone = PEOPLE[THIRD_ID]
    await publish_finding(svc, finding(elsewhere, id_number=THIRD_ID, full_name=name, phone=phone))
    # Staff correct the first person's name, phone and identity number.
    ref = str(landlord.json()["person_ref"])
    fixed = await correct(
        svc,
        ref,
        {
            "name": CORRECTED[0],
            "phone": CORRECTED[1],
            "id_number": CORRECTED[2],
            "reason": "read from the ID card",
        },
    )
    assert fixed.status_code == 200, fixed.text
    # She moves out; the self-declared person moves elsewhere.
    assert (await move_out(svc, home, str(landlord.json()["residence_id"]))).status_code == 200
    name, phone = PEOPLE[OTHER_ID]
    moved = await svc.declare(
        elsewhere, key="k-move", id_number=OTHER_ID, name=name, phone=phone, room_no="102"
    )
    assert moved.status_code == 201, moved.text
    # An employer hires the fourth.
    employer_id = await new_employer(svc)
    name, phone = PEOPLE[worker_id(7)]
    hired = await hire(svc, employer_id, id_number=worker_id(7), name=name, phone=phone)
    assert hired.status_code == 201, hired.text
    await svc.drain()


async def test_no_public_event_carries_an_identity_number_a_name_or_a_phone(
    registration: Registration,
) -> None:
    svc = registration

    await run_scenario(svc)

    public = svc.relayed()
    assert {r.topic for r in public} == {TOPIC}
    names = {r.headers["ce_type"].split(".")[1] for r in public}
    assert {
        "PersonRegistered",
        "PersonCorrected",
        "ResidenceDeclared",
        "ResidenceEnded",
        "EmploymentDeclared",
    } <= names
    secrets = [s for values in PEOPLE.items() for s in (values[0], *values[1])]
    secrets += list(CORRECTED)
    for record in public:
        for secret in secrets:
            for form in forms(secret):
                assert form not in record.body, (record.headers["ce_type"], secret)
                assert all(form.decode() not in v for v in record.headers.values())
        payload = json.loads(record.body)
        assert not {"id_number", "full_name", "name", "phone"} & payload.keys()


async def test_the_restricted_topic_holds_every_version_of_every_identity(
    registration: Registration,
) -> None:
    svc = registration

    await run_scenario(svc)

    recorded = [json.loads(r.body) for r in svc.restricted]
    assert {r.topic for r in svc.restricted} == {"registration.persons.restricted"}
    numbers = {r["id_number"] for r in recorded}
    assert numbers == {OTHER_ID, THIRD_ID, worker_id(7), CORRECTED[2], id_number()}
    fixed = [r for r in recorded if r["id_number"] == CORRECTED[2]]
    assert [(r["full_name"], r["phone"], r["previous_id_number"]) for r in fixed] == [
        (CORRECTED[0], CORRECTED[1], id_number())
    ]
    for record in svc.restricted:
        assert record.key.decode() == json.loads(record.body)["person_ref"]


async def test_numbers_typed_into_an_address_are_scrubbed_from_the_public_event(
    registration: Registration,
) -> None:
    svc = registration
    address = f"12 Wentang Road, ask Wang {id_number()} on 13800138000"
    response = await svc.client.post(
        "/properties",
        json={
            "address": address,
            "grid_id": "G1",
            "landlord_id": "L1",
            "rooms": [{"room_no": "101", "capacity": 2}],
        },
        headers={**svc.landlord(), "Idempotency-Key": "free-text"},
    )
    assert response.status_code == 201, response.text
    await svc.drain()

    (event,) = svc.relayed_of("PropertyRegistered")
    published = json.loads(event.body)["address"]
    assert id_number() not in event.body.decode() and "13800138000" not in event.body.decode()
    assert published == "12 Wentang Road, ask Wang [id-number] on [phone]"


async def test_numbers_typed_into_an_employer_name_are_scrubbed_from_the_public_event(
    registration: Registration,
) -> None:
    svc = registration
    name = f"Wang {id_number()} Noodle Shop (13800138000)"  # a sole trader named after its owner
    officer = svc.auth("officer", scopes=("registration:write",), grids=("G1",))

    response = await register_employer(svc, officer, name=name)
    assert response.status_code == 201, response.text
    await svc.drain()

    (event,) = svc.relayed_of("EmployerRegistered")
    assert id_number() not in event.body.decode() and "13800138000" not in event.body.decode()
    assert json.loads(event.body)["employer_name"] == "Wang [id-number] Noodle Shop ([phone])"
