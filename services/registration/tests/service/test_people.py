"""People: one record per identity number, corrected with history, public vs restricted events."""

from __future__ import annotations

import asyncio
import json

from _persons_helpers import (
    OTHER_ID,
    THIRD_ID,
    bodies,
    correct,
    derived_ref,
    staff,
)
from _registration_helpers import NOW, Registration, id_number

from common.db import idempotency_keys, outbox
from common.outbox import SEALED_PREFIX
from common.pii import mask_id_number
from registration.adapters.persons_tables import person_identity_history, persons, pii_access_log
from registration.events import PERSONS_TOPIC


async def declared_person(svc: Registration, **overrides: object) -> tuple[str, str]:
    property_id = await svc.new_property()
    response = await svc.declare(property_id, **overrides)
    assert response.status_code == 201, response.text
    return property_id, str(response.json()["person_ref"])


async def test_a_first_declaration_registers_the_person_publicly_and_in_full_restricted(
    registration: Registration,
) -> None:
    svc = registration
    _, ref = await declared_person(svc)
    await svc.drain()

    (public,) = svc.relayed_of("PersonRegistered")
    assert (public.topic, public.key, public.headers["ce_subject"]) == (
        "registration.events",
        ref.encode(),
        ref,
    )
    assert json.loads(public.body) == {
        "person_ref": ref,
        "id_number_masked": mask_id_number(id_number()),
        "gender": "male",
        "birth_year": 1990,
        "origin_region": "440306",
        "registered_at": NOW.isoformat().replace("+00:00", "Z"),
    }
    (restricted,) = svc.restricted
    assert (restricted.topic, restricted.key) == (PERSONS_TOPIC, ref.encode())
    assert restricted.headers["ce_type"] == "registration.PersonIdentityRecorded.v1"
    full = json.loads(restricted.body)
    assert (full["id_number"], full["full_name"], full["phone"]) == (
        id_number(),
        "王小明",
        "13800138000",
    )
    assert (full["record_version"], full["change"], full["birth_date"]) == (
        1,
        "registered",
        "1990-01-01",
    )
    assert ref == derived_ref(svc, id_number())


async def test_restricted_events_are_encrypted_in_the_outbox(registration: Registration) -> None:
    svc = registration
    svc.runtime.relay.stop()  # keep the rows in the outbox to look at them
    await asyncio.sleep(0.05)
    await declared_person(svc)

    rows = {r.ce_type: r for r in await svc.rows(outbox)}
    sealed = rows["registration.PersonIdentityRecorded.v1"].payload
    assert sealed.startswith(SEALED_PREFIX)
    assert id_number().encode() not in sealed and "王小明".encode() not in sealed
    assert rows["registration.PersonRegistered.v1"].payload.startswith(b"{")


async def test_a_later_declaration_with_new_contact_details_is_a_new_version(
    registration: Registration,
) -> None:
    svc = registration
    property_id, ref = await declared_person(svc)

    again = await svc.declare(property_id, key="k-2", room_no="102", phone="13900139000")
    await svc.drain()

    assert again.json()["person_ref"] == ref
    (record,) = await svc.rows(persons)
    assert record.version == 2
    assert svc.cipher.decrypt(record.phone_enc) == "13900139000"
    history = sorted(await svc.rows(person_identity_history), key=lambda r: r.version)
    assert [(h.version, h.change, h.changed_fields) for h in history] == [
        (1, "registered", []),
        (2, "declaration", ["phone"]),
    ]
    assert svc.cipher.decrypt(history[0].phone_enc) == "13800138000"  # the old one is kept
    (corrected,) = bodies(svc.relayed_of("PersonCorrected"))
    assert (corrected["changed_fields"], corrected["via"]) == (["phone"], "declaration")
    assert [json.loads(r.body)["phone"] for r in svc.restricted] == ["13800138000", "13900139000"]


async def test_office_staff_correct_name_and_phone_with_history_and_audit(
    registration: Registration,
) -> None:
    svc = registration
    _, ref = await declared_person(svc)
    writer = {**staff(svc, "pii:write"), "X-Correlation-ID": "corr-fix"}

    response = await correct(
        svc,
        ref,
        {"name": "王晓明", "phone": "13900139000", "reason": "misspelt at the counter"},
        writer,
    )
    await svc.drain()

    assert response.status_code == 200, response.text
    assert response.json() == {
        "person_ref": ref,
        "version": 2,
        "id_number_masked": mask_id_number(id_number()),
        "gender": "male",
        "birth_date": "1990-01-01",
        "origin_region": "440306",
        "changed_fields": ["name", "phone"],
    }
    history = await svc.client.get(
        f"/persons/{ref}/history?reveal=true", headers=staff(svc, "pii:read", "pii:reveal")
    )
    assert history.status_code == 200
    assert history.json()["person_ref"] == ref
    v1, v2 = history.json()["versions"]
    assert (v1["name"], v1["phone"], v1["change"], v1["recorded_by"]) == (
        "王小明",
        "13800138000",
        "registered",
        "landlord-L1",
    )
    assert (v2["name"], v2["phone"], v2["change"], v2["changed_fields"]) == (
        "王晓明",
        "13900139000",
        "correction",
        ["name", "phone"],
    )
    assert (v2["reason"], v2["recorded_by"]) == ("misspelt at the counter", "officer-G1")
    audit = [(a.action, a.principal, a.correlation_id) for a in await svc.rows(pii_access_log)]
    assert audit[0] == ("correct", "officer-G1", "corr-fix")
    assert audit[1][0] == "history_reveal"
    (corrected,) = svc.relayed_of("PersonCorrected")
    assert corrected.key == ref.encode()
    assert json.loads(corrected.body)["changed_fields"] == ["name", "phone"]
    assert "王晓明".encode() not in corrected.body and b"13900139000" not in corrected.body
    latest = json.loads(svc.restricted[-1].body)
    assert (latest["full_name"], latest["phone"], latest["change"]) == (
        "王晓明",
        "13900139000",
        "correction",
    )
    keys = [str(k.body) for k in await svc.rows(idempotency_keys)]
    assert all("13900139000" not in k and "王晓明" not in k for k in keys)


async def test_an_identity_number_correction_moves_the_hash_and_keeps_the_ref(
    registration: Registration,
) -> None:
    svc = registration
    property_id, ref = await declared_person(svc)

    response = await correct(svc, ref, {"id_number": OTHER_ID, "reason": "digits swapped"})
    await svc.drain()

    assert response.status_code == 200, response.text
    assert response.json()["changed_fields"] == [
        "id_number",
        "gender",
        "birth_date",
        "origin_region",
    ]
    (record,) = await svc.rows(persons)
    assert (record.person_ref, record.id_hash) == (ref, svc.cipher.keyed_hash(OTHER_ID))
    assert (record.gender, str(record.birth_date), record.origin_region) == (
        "female",
        "1985-06-15",
        "510107",
    )
    corrected = json.loads(svc.relayed_of("PersonCorrected")[-1].body)
    assert (corrected["gender"], corrected["birth_year"], corrected["origin_region"]) == (
        "female",
        1985,
        "510107",
    )
    restricted = json.loads(svc.restricted[-1].body)
    assert (restricted["id_number"], restricted["previous_id_number"]) == (OTHER_ID, id_number())

    # The corrected number now finds the same person ...
    same = await svc.declare(property_id, key="k-same", room_no="102", id_number=OTHER_ID)
    assert same.json()["person_ref"] == ref
    # ... and the mistyped one, which belongs to someone else, is a new person with a new ref
    # (the ref derived from it is taken: refs never change).
    other = await svc.declare(property_id, key="k-other", room_no="101")
    assert other.status_code == 201, other.text
    assert other.json()["person_ref"] not in (ref, derived_ref(svc, id_number()))
    assert await svc.count(persons) == 2


async def test_a_correction_to_another_persons_number_is_refused_and_writes_nothing(
    registration: Registration,
) -> None:
    svc = registration
    property_id, ref = await declared_person(svc)
    assert (await svc.declare(property_id, key="k-2", id_number=THIRD_ID)).status_code == 201
    before = (await svc.count(person_identity_history), await svc.count(outbox))

    response = await correct(svc, ref, {"id_number": THIRD_ID, "reason": "typo"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "id_number"]
    assert "another person record" in response.json()["detail"][0]["msg"]
    assert (await svc.count(person_identity_history), await svc.count(outbox)) == before
    assert await svc.count(pii_access_log) == 0


async def test_corrections_need_pii_write_and_an_office_role(registration: Registration) -> None:
    svc = registration
    _, ref = await declared_person(svc)
    body = {"name": "王晓明", "reason": "typo"}

    reader = await correct(svc, ref, body, staff(svc, "pii:read", "registration:write"))
    landlord = await correct(svc, ref, body, svc.auth("landlord", scopes=("pii:write",)))
    nobody = await correct(svc, "Pnobody", body)

    assert (reader.status_code, landlord.status_code, nobody.status_code) == (403, 403, 404)
    assert "pii:write" in reader.json()["detail"]
    assert await svc.count(person_identity_history) == 1
    assert await svc.count(pii_access_log) == 0


async def test_a_correction_must_say_what_and_why(registration: Registration) -> None:
    svc = registration
    _, ref = await declared_person(svc)

    nothing = await correct(svc, ref, {"reason": "nothing"}, key="k-a")
    no_reason = await correct(svc, ref, {"name": "王晓明"}, key="k-b")
    bad_number = await correct(svc, ref, {"id_number": "440306199001011230", "reason": "x"})

    assert (nothing.status_code, no_reason.status_code, bad_number.status_code) == (422, 422, 422)
    assert bad_number.json()["detail"][0]["loc"] == ["body", "id_number"]
    assert await svc.count(person_identity_history) == 1


async def test_a_retried_correction_replays_and_removing_the_phone_is_a_correction(
    registration: Registration,
) -> None:
    svc = registration
    _, ref = await declared_person(svc)
    body = {"phone": None, "reason": "the number was the landlord's"}

    first = await correct(svc, ref, body)
    again = await correct(svc, ref, body)

    assert first.json()["changed_fields"] == ["phone"]
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    (record,) = await svc.rows(persons)
    assert (record.version, record.phone_enc) == (2, None)


async def test_history_is_masked_unless_revealed_and_every_read_is_audited(
    registration: Registration,
) -> None:
    svc = registration
    _, ref = await declared_person(svc)
    await correct(svc, ref, {"name": "王晓明", "reason": "id card 440306199001011236 said so"})

    masked = await svc.client.get(f"/persons/{ref}/history", headers=staff(svc, "pii:read"))
    refused = await svc.client.get(
        f"/persons/{ref}/history?reveal=true", headers=staff(svc, "pii:read")
    )
    no_scope = await svc.client.get(f"/persons/{ref}/history", headers=staff(svc))

    assert (masked.status_code, refused.status_code, no_scope.status_code) == (200, 403, 403)
    versions = masked.json()["versions"]
    assert [v["name"] for v in versions] == ["王**", "王**"]
    assert versions[0]["id_number"] == mask_id_number(id_number())
    assert versions[0]["phone"] == "138****8000"
    assert versions[1]["reason"] == "id card [id-number] said so"
    assert [a.action for a in await svc.rows(pii_access_log)] == ["correct", "history"]


async def test_the_person_view_shows_the_corrected_record(registration: Registration) -> None:
    svc = registration
    _, ref = await declared_person(svc)
    await correct(svc, ref, {"id_number": OTHER_ID, "reason": "typo"})

    view = await svc.client.get(
        f"/persons/{ref}?reveal=true", headers=staff(svc, "pii:read", "pii:reveal")
    )

    assert view.status_code == 200
    assert (view.json()["id_number"], view.json()["gender"], view.json()["birth_date"]) == (
        OTHER_ID,
        "female",
        "1985-06-15",
    )


async def test_a_number_in_full_width_digits_is_the_same_person_as_in_ascii(
    registration: Registration,
) -> None:
    svc = registration
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in id_number())  # "0" -> U+FF10 ...
    _, first = await declared_person(svc, id_number=full_width, key="full-width")
    elsewhere = await svc.declare(await svc.new_property(), key="ascii")

    assert first == derived_ref(svc, id_number())
    assert elsewhere.status_code == 422  # the same person, already living in the first
    assert "already lives" in elsewhere.text
    assert await svc.count(persons) == 1
