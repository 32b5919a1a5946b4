"""Leads: raised once from sightings or a five-elements list, closed by a verification."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from _reconciliation_helpers import (
    YESTERDAY,
    bodies,
    csv_of,
    entry,
    new_property,
    person,
    post_entries,
    post_list,
    publish_entries,
    publish_verification,
    record_topic,
    records,
    sightings_of,
    verification,
)
from _registration_helpers import NOW, Registration

from common.pii import mask_id_number
from registration.adapters.reconciliation_tables import five_elements_lists, leads
from registration.adapters.residences_tables import residences

MAX_LIST_ROWS = 30


@pytest.fixture
def registration_settings() -> dict[str, Any]:
    return {"five_elements_max_rows": MAX_LIST_ROWS}


def officer(svc: Registration, *grids: str) -> dict[str, str]:
    return svc.auth("officer", scopes=("registration:read", "feeds:write"), grids=grids or ("G1",))


async def suspect(svc: Registration, property_id: str, number: str) -> dict[str, Any]:
    """Entries enough for a lead; returns the lead as the office's API shows it."""
    response = await post_entries(svc, sightings_of(property_id, number))
    assert response.json()["leads_opened"] == 1, response.text
    await svc.drain()
    listed = await svc.client.get("/leads", headers=svc.auth("admin"))
    (lead,) = [
        lead
        for lead in listed.json()["leads"]
        if lead["property_id"] == property_id and lead["status"] == "open"
    ]
    return dict(lead)


# -- access control -------------------------------------------------------------------------


async def test_a_person_seen_repeatedly_without_a_residence_yields_one_lead(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await new_property(svc)
    number = person(21)

    first = await post_entries(svc, sightings_of(property_id, number))
    more = await post_entries(
        svc, sightings_of(property_id, number, [NOW - timedelta(hours=3), NOW - timedelta(hours=2)])
    )
    await svc.drain()

    assert (first.json()["leads_opened"], more.json()["leads_opened"]) == (1, 0)
    (record,) = records(svc, "UnregisteredOccupantSuspected")
    assert record.key == property_id.encode()
    assert record.headers["ce_subject"] == property_id
    (event,) = bodies(svc, "UnregisteredOccupantSuspected")
    assert event["property_id"] == property_id
    assert event["grid_id"] == "G1"
    assert event["person_ref"] is None
    assert event["subject_ref"] == "S" + svc.cipher.keyed_hash(number)[:23]
    assert event["id_number_masked"] == mask_id_number(number)
    assert number not in record.body.decode()
    evidence = event["evidence"]
    assert evidence["source"] == "access_control"
    assert (evidence["sightings"], evidence["distinct_days"]) == (3, 2)
    assert (evidence["window_days"], evidence["window_start"]) == (7, "2026-02-26")
    assert evidence["first_seen"].startswith("2026-03-03T10:00")
    assert event["policy_version"] == "default-2026"
    (row,) = await svc.rows(leads)
    assert (row.status, row.source, row.subject_hash) == (
        "open",
        "access_control",
        svc.cipher.keyed_hash(number),
    )


async def test_sightings_below_the_thresholds_yield_no_lead(registration: Registration) -> None:
    svc = registration
    property_id = await new_property(svc)

    one_day = await post_entries(
        svc, sightings_of(property_id, person(22), [NOW, NOW, NOW, NOW - timedelta(hours=1)])
    )
    two_sightings = await post_entries(svc, sightings_of(property_id, person(23), [YESTERDAY, NOW]))
    faces = await post_entries(
        svc,
        [
            entry(property_id, face="F-1", at=at)
            for at in (YESTERDAY, NOW, NOW - timedelta(hours=1))
        ],
    )

    assert [r.json()["leads_opened"] for r in (one_day, two_sightings, faces)] == [0, 0, 0]
    assert await svc.count(leads) == 0


async def test_a_declared_resident_yields_no_lead_and_a_known_person_is_named(
    registration: Registration,
) -> None:
    svc = registration
    home, elsewhere = await new_property(svc), await new_property(svc)
    number = person(24)
    declared = await svc.declare(home, id_number=number)
    assert declared.status_code == 201, declared.text

    at_home = await post_entries(svc, sightings_of(home, number))
    away = await post_entries(svc, sightings_of(elsewhere, number))
    await svc.drain()

    assert (at_home.json()["leads_opened"], away.json()["leads_opened"]) == (0, 1)
    (event,) = bodies(svc, "UnregisteredOccupantSuspected")
    assert event["property_id"] == elsewhere
    assert event["person_ref"] == declared.json()["person_ref"]


async def test_an_unregistered_building_yields_no_lead(registration: Registration) -> None:
    svc = registration

    response = await post_entries(svc, sightings_of("P-UNKNOWN", person(25)))

    assert response.json()["leads_opened"] == 0
    assert await svc.count(leads) == 0


async def test_entries_from_kafka_yield_one_lead(registration: Registration) -> None:
    svc = registration
    property_id = await new_property(svc)
    entries = sightings_of(property_id, person(26))

    await publish_entries(svc, entries)
    await publish_entries(svc, entries)  # redelivered
    await publish_entries(svc, [entry(property_id, person(26), at=NOW - timedelta(hours=5))])
    await svc.drain()

    assert len(bodies(svc, "UnregisteredOccupantSuspected")) == 1


async def test_a_declaration_closes_the_lead_it_explains(registration: Registration) -> None:
    svc = registration
    property_id = await new_property(svc)
    number = person(27)
    lead = await suspect(svc, property_id, number)

    declared = await svc.declare(property_id, id_number=number)
    assert declared.status_code == 201, declared.text
    await svc.drain()

    (closed,) = bodies(svc, "LeadClosed")
    assert closed["lead_id"] == lead["lead_id"]
    assert (closed["outcome"], closed["residence_id"]) == (
        "declared",
        declared.json()["residence_id"],
    )
    assert closed["person_ref"] == declared.json()["person_ref"]
    again = await post_entries(svc, sightings_of(property_id, number, [NOW - timedelta(hours=7)]))
    assert again.json()["leads_opened"] == 0


# -- five elements --------------------------------------------------------------------------


async def test_a_five_elements_list_reports_each_bad_line_and_raises_leads_for_the_rest(
    registration: Registration,
) -> None:
    svc = registration
    by_id = await new_property(svc, address="1 Lane A")
    by_address = await new_property(svc, address="Lane 3, No. 12")
    await new_property(svc, address="Twin Court 5")
    await new_property(svc, address="twin court 5")
    other_grid = await new_property(svc, grid_id="G2", address="9 Far Road")
    resident = person(31)
    assert (await svc.declare(by_id, id_number=resident)).status_code == 201
    text = csv_of(
        [
            (person(32), "王小明", "", by_id),  # 2 lead
            (person(33), "李四", "  lane 3 ,  no. 12 ", ""),  # 3 lead, by address
            (resident, "张三", "", by_id),  # 4 registered there
            (person(34)[:17] + "0", "赵六", "", by_id),  # 5 id_number
            (person(35), "", "", by_id),  # 6 name
            (person(36), "孙七", "", ""),  # 7 address
            (person(37), "周八", "", "no-such-property"),  # 8 property_id
            (person(38), "吴九", "Nowhere 1", ""),  # 9 address: no match
            (person(39), "郑十", "Twin Court 5", ""),  # 10 address: two matches
            (person(40), "钱一", "", other_grid, "extra"),  # 11 line
            (person(32), "王小明", "", by_id),  # 12 listed twice: already open
        ]
    )

    response = await post_list(svc, text)
    await svc.drain()

    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows"], report["valid"], report["rejected"]) == (11, 4, 7), report["errors"]
    assert (report["leads_opened"], report["registered"], report["already_open"]) == (2, 1, 1)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (5, "id_number"),
        (6, "name"),
        (7, "address"),
        (8, "property_id"),
        (9, "address"),
        (10, "address"),
        (11, "line"),
    ]
    assert "2 registered properties" in report["errors"][5]["reason"]
    events = bodies(svc, "UnregisteredOccupantSuspected")
    assert sorted(e["property_id"] for e in events) == sorted([by_id, by_address])
    assert {e["evidence"]["source"] for e in events} == {"five_elements"}
    assert {e["evidence"]["list_id"] for e in events} == {report["list_id"]}
    assert {e["evidence"]["sightings"] for e in events} == {0}
    for number in (person(32), person(33)):
        assert number not in response.text


async def test_the_same_list_again_is_recognised_and_not_applied_twice(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await new_property(svc)
    text = csv_of([(person(41), "王小明", "", property_id)])

    first = await post_list(svc, text)
    again = await post_list(svc, text.replace("\n", "\r\n"))

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == {**first.json(), "already_applied": True}
    assert await svc.count(leads) == 1
    assert await svc.count(five_elements_lists) == 1


async def test_an_officer_lists_only_for_their_grids_and_a_landlord_not_at_all(
    registration: Registration,
) -> None:
    svc = registration
    mine, theirs = await new_property(svc, grid_id="G1"), await new_property(svc, grid_id="G2")
    text = csv_of([(person(42), "王小明", "", mine), (person(43), "李四", "", theirs)])

    landlord = await post_list(svc, text, svc.landlord())
    response = await post_list(svc, text, officer(svc, "G1"))

    assert landlord.status_code == 403
    assert response.status_code == 201
    assert response.json()["leads_opened"] == 1
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(3, "property_id")]


async def test_a_list_must_be_csv_with_the_header_and_not_too_long(
    registration: Registration,
) -> None:
    svc = registration

    json_body = await post_list(svc, "{}", content_type="application/json")
    header = await post_list(svc, "id,name\n1,2\n")
    too_long = await post_list(svc, csv_of([(person(1), "A", "x", "")] * (MAX_LIST_ROWS + 1)))

    assert json_body.status_code == 415
    assert header.status_code == 422
    assert too_long.status_code == 413
    assert await svc.count(leads) == 0


# -- verification ---------------------------------------------------------------------------


async def test_a_verification_closes_the_lead_once(registration: Registration) -> None:
    svc = registration
    property_id = await new_property(svc)
    lead = await suspect(svc, property_id, person(51))
    event = verification(lead, "visitor")

    await publish_verification(svc, event)
    await publish_verification(svc, event)  # redelivered: the inbox skips it
    await publish_verification(svc, verification(lead, "not_found"))  # closed already

    (closed,) = bodies(svc, "LeadClosed")
    assert closed == {
        "lead_id": lead["lead_id"],
        "property_id": property_id,
        "grid_id": "G1",
        "subject_ref": lead["subject_ref"],
        "person_ref": None,
        "outcome": "visitor",
        "verification_id": event.verification_id,
        "residence_id": None,
        "registration_needed": False,
        "closed_at": NOW.isoformat().replace("+00:00", "Z"),
    }
    shown = await svc.client.get(f"/leads/{lead['lead_id']}", headers=officer(svc))
    assert (shown.json()["status"], shown.json()["outcome"]) == ("closed", "visitor")
    assert shown.json()["closed_by"] == "officer-7"


async def test_after_a_verification_only_new_sightings_count(registration: Registration) -> None:
    svc = registration
    property_id = await new_property(svc)
    number = person(52)
    lead = await suspect(svc, property_id, number)
    await publish_verification(svc, verification(lead, "visitor"))

    same_days = await post_entries(
        svc, sightings_of(property_id, number, [NOW - timedelta(hours=6)] * 3)
    )

    assert same_days.json()["leads_opened"] == 0


async def test_a_known_person_found_living_there_is_declared_by_the_officer(
    registration: Registration,
) -> None:
    svc = registration
    home, found_at = await new_property(svc), await new_property(svc)
    number = person(53)
    declared = await svc.declare(home, id_number=number)
    assert declared.status_code == 201, declared.text
    lead = await suspect(svc, found_at, number)

    await publish_verification(svc, verification(lead, "resides_here", room_no="102"))

    (closed,) = bodies(svc, "LeadClosed")
    assert (closed["outcome"], closed["registration_needed"]) == ("resides_here", False)
    new = [r for r in await svc.rows(residences) if r.property_id == found_at]
    assert len(new) == 1
    assert (new[0].room_no, new[0].channel, new[0].declared_by) == ("102", "officer", "officer-7")
    assert closed["residence_id"] == new[0].id
    assert str(new[0].moved_in_on) == "2026-03-03"  # the first sighting
    declared_events = [e for e in bodies(svc, "ResidenceDeclared") if e["property_id"] == found_at]
    assert [e["channel"] for e in declared_events] == ["officer"]


async def test_an_unknown_person_found_living_there_must_be_registered_by_the_officer(
    registration: Registration,
) -> None:
    svc = registration
    property_id = await new_property(svc)
    lead = await suspect(svc, property_id, person(54))

    await publish_verification(svc, verification(lead, "resides_here", room_no="101"))

    (closed,) = bodies(svc, "LeadClosed")
    assert (closed["outcome"], closed["registration_needed"]) == ("resides_here", True)
    assert closed["residence_id"] is None
    assert await svc.count(residences) == 0


async def test_a_verification_of_an_unknown_lead_is_dead_lettered(
    registration: Registration,
) -> None:
    svc = registration
    dead = await record_topic(svc, "inspection.events.dlq")
    property_id = await new_property(svc)
    lead = {"lead_id": "no-such-lead", "property_id": property_id}

    await publish_verification(svc, verification(lead, "not_found"))

    assert len(dead) == 1
    assert bodies(svc, "LeadClosed") == []


async def test_inspections_other_events_are_skipped(registration: Registration) -> None:
    svc = registration
    dead = await record_topic(svc, "inspection.events.dlq")
    headers = {
        "ce_specversion": "1.0",
        "ce_id": "evt-1",
        "ce_type": "inspection.HazardFound.v1",
        "ce_source": "/services/inspection",
    }

    await svc.runtime.broker.publish(b"{}", "inspection.events", key=b"P-1", headers=headers)

    assert dead == []


# -- who sees leads -------------------------------------------------------------------------


async def test_grid_staff_see_only_their_grids_leads(registration: Registration) -> None:
    svc = registration
    g1 = [await new_property(svc, grid_id="G1") for _ in range(3)]
    g2 = await new_property(svc, grid_id="G2")
    for i, property_id in enumerate([*g1, g2]):
        await suspect(svc, property_id, person(60 + i))
    g1_officer = officer(svc, "G1")

    mine = await svc.client.get("/leads", headers=g1_officer)
    page = await svc.client.get(
        "/leads?grid_id=G1&status=open&limit=2&offset=2", headers=g1_officer
    )
    closed = await svc.client.get("/leads?status=closed", headers=g1_officer)
    other = await svc.client.get("/leads?grid_id=G2", headers=g1_officer)
    g2_lead = (await svc.client.get("/leads?grid_id=G2", headers=svc.auth("admin"))).json()
    one = await svc.client.get(f"/leads/{g2_lead['leads'][0]['lead_id']}", headers=g1_officer)
    landlord = await svc.client.get("/leads", headers=svc.landlord())

    assert mine.status_code == 200
    assert mine.json()["total"] == 3
    assert {lead["grid_id"] for lead in mine.json()["leads"]} == {"G1"}
    assert (page.json()["total"], len(page.json()["leads"])) == (3, 1)
    assert closed.json()["total"] == 0
    assert (other.status_code, one.status_code, landlord.status_code) == (403, 403, 403)
    assert g2_lead["total"] == 1
