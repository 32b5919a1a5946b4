"""The enforcement loop in one service: breaches from registration's and inspection's
events become cases and the schedule's decisions; an order is verified by a follow-up or
escalates by itself when its deadline passes (issue 12, items 1, 3 and 4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from common.clock import FakeClock
from common.testing import Running
from common.timers import TimerWorker
from penalties.events import NOTICES_TOPIC
from penalties.upstream.inspection import FollowUpResult, HazardFound, InspectionCompleted
from penalties.upstream.registration import (
    Channel,
    EmployerRegistered,
    EmployerReturnFiled,
    EmployerReturnMissed,
    FindingOutcome,
    OccupantFindingSettled,
    PropertyRegistered,
    ResidenceDeclared,
)

NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday (as conftest)

Staff = Callable[..., dict[str, str]]
Published = Callable[..., list[tuple[str, dict[str, Any]]]]


async def a_property(svc: Running, property_id: str = "P1", grid: str = "WT-G03") -> None:
    await svc.deliver(
        PropertyRegistered(
            property_id=property_id,
            grid_id=grid,
            address=f"{property_id} Xinwei Road",
            landlord_id=f"LL-{property_id}",
            registered_at=NOW - timedelta(days=300),
        )
    )


async def found_undeclared(
    svc: Running, finding_id: str, *, visit_id: str | None = "V1", property_id: str = "P1",
    room: str = "101",
) -> None:  # fmt: skip
    await svc.deliver(
        OccupantFindingSettled(
            finding_id=finding_id,
            property_id=property_id,
            grid_id="WT-G03",
            landlord_id=f"LL-{property_id}",
            room_no=room,
            outcome=FindingOutcome.REGISTERED,
            found_at=NOW,
            visit_id=visit_id,
        )
    )


async def fire_timers(svc: Running) -> int:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    worker = TimerWorker(
        svc.runtime.sessionmaker, svc.runtime.timer_handlers, clock, postgres=False
    )
    fired = await worker.fire_due()
    await svc.drain()
    return fired


def advance(svc: Running, delta: timedelta) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(delta)


async def test_an_undeclared_occupant_is_one_case_ordered_to_rectify_in_working_days(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    await a_property(svc)
    await found_undeclared(svc, "F1")
    await found_undeclared(svc, "F1")  # a redelivery: still one count
    await found_undeclared(svc, "F2", room="102")  # the same visit: a second count
    await svc.drain()

    types = [t for t, _ in published(svc)]
    assert types == [
        "CaseOpened", "BreachRecorded", "RectificationOrdered",
        "BreachRecorded", "RectificationOrdered",
    ]  # fmt: skip
    events = dict(published(svc)[:3])
    case_id = events["CaseOpened"]["case_id"]
    assert events["CaseOpened"]["party_id"] == "LL-P1"
    assert events["CaseOpened"]["grouping_key"] == "visit:V1"
    order = events["RectificationOrdered"]
    # Monday 9 March + 3 working days: Thursday 12 March.
    assert (order["deadline"], order["policy_version"]) == ("2026-03-12", "gd-fpsm-2026-1")
    assert order["property_id"] == "P1"
    case = (await svc.client.get(f"/cases/{case_id}", headers=staff("WT-G03"))).json()
    assert [c["status"] for c in case["counts"]] == ["ordered", "ordered"]
    assert [d["action"] for d in case["decisions"]] == ["rectification_order"] * 2
    (notice, _) = [body for _, body in published(svc, NOTICES_TOPIC)]
    assert notice["recipient"] == {
        "party_kind": "landlord", "party_id": "LL-P1", "name": None,
        "address": "P1 Xinwei Road",
    }  # fmt: skip
    assert notice["facts"].startswith("An occupant of room 101 was found undeclared on 2026-03-09")
    assert "廣東省流動人口服務管理條例" in notice["article"]
    assert notice["deadline"] == "2026-03-12"
    assert "reconsideration" in notice["appeal"]


async def test_an_order_still_open_at_its_deadline_escalates_to_the_schedules_fine(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    await a_property(svc)
    await found_undeclared(svc, "F1")
    await svc.drain()
    assert await fire_timers(svc) == 0  # not due yet

    advance(svc, timedelta(days=3, hours=14))  # Thursday 23:00 local: the deadline's day
    assert await fire_timers(svc) == 0
    advance(svc, timedelta(hours=2))  # Friday 01:00 local: overdue
    assert await fire_timers(svc) == 1

    types = [t for t, _ in published(svc)]
    assert types[3:] == ["CaseEscalated", "PenaltyIssued", "CaseClosed"]
    events = dict(published(svc))
    assert events["CaseEscalated"]["reason"] == "overdue"
    assert events["PenaltyIssued"]["amount_yuan"] == 200
    assert events["CaseClosed"]["outcome"] == "penalised"
    assert events["CaseClosed"]["fined_yuan"] == 200
    notices = [body for _, body in published(svc, NOTICES_TOPIC)]
    assert [n["action"] for n in notices] == ["rectification_order", "fine"]
    assert notices[1]["amount_yuan"] == 200
    orders = (await svc.client.get("/orders", headers=staff("WT-G03"))).json()
    assert orders["orders"] == []


async def test_a_follow_up_visit_verifies_an_order_and_closes_the_case(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    await a_property(svc)
    await found_undeclared(svc, "F1")
    await svc.drain()
    order_id = dict(published(svc))["RectificationOrdered"]["order_id"]
    listed = (await svc.client.get("/orders", headers=staff("WT-G03"))).json()
    assert [o["order_id"] for o in listed["orders"]] == [order_id]
    advance(svc, timedelta(days=2))

    completed = InspectionCompleted(
        visit_id="V9", property_id="P1", grid_id="WT-G03", officer_id="officer-0317",
        completed_at=NOW + timedelta(days=2),
        follow_ups=[FollowUpResult(order_id=order_id, rectified=True)],
    )  # fmt: skip
    await svc.deliver(completed)
    await svc.deliver(completed, ce_id="another-delivery")  # replayed: one check
    await svc.drain()

    events = dict(published(svc))
    assert events["RectificationVerified"]["on_time"] is True
    assert events["RectificationVerified"]["visit_id"] == "V9"
    assert events["CaseClosed"]["outcome"] == "rectified"
    advance(svc, timedelta(days=10))
    assert await fire_timers(svc) == 0  # the verified order's timer is gone
    case_id = events["CaseOpened"]["case_id"]
    case = (await svc.client.get(f"/cases/{case_id}", headers=staff("WT-G03"))).json()
    assert [(c["visit_id"], c["rectified"]) for c in case["checks"]] == [("V9", True)]


async def test_a_failed_follow_up_after_the_deadline_escalates_before_the_timer(
    penalties: Running, published: Published
) -> None:
    svc = penalties
    await a_property(svc)
    await found_undeclared(svc, "F1")
    await svc.drain()
    order_id = dict(published(svc))["RectificationOrdered"]["order_id"]
    early = InspectionCompleted(
        visit_id="V8", property_id="P1", grid_id="WT-G03", officer_id="officer-0317",
        completed_at=NOW, follow_ups=[FollowUpResult(order_id=order_id, rectified=False)],
    )  # fmt: skip
    await svc.deliver(early)  # before the deadline: recorded, the order stays open
    advance(svc, timedelta(days=3))  # Thursday: the deadline's day
    late = early.model_copy(update={"visit_id": "V9"})
    await svc.deliver(late)
    await svc.drain()

    events = dict(published(svc))
    assert events["CaseEscalated"]["reason"] == "follow_up_failed"
    assert events["PenaltyIssued"]["amount_yuan"] == 200


async def test_hazards_of_one_visit_are_one_case_with_their_correction_periods(
    penalties: Running, staff: Staff, published: Published
) -> None:
    svc = penalties
    await a_property(svc)
    for finding, item, severity, days in (("H1", "fire_extinguisher_missing", "medium", 10),
                                          ("H2", "wiring_exposed", "high", 1)):  # fmt: skip
        await svc.deliver(
            HazardFound(
                finding_id=finding,
                visit_id="V1",
                property_id="P1",
                grid_id="WT-G03",
                item=item,
                severity=severity,
                correct_by=date(2026, 3, 9) + timedelta(days),
                found_at=NOW,
            )
        )
    await svc.drain()

    orders = [body for t, body in published(svc) if t == "RectificationOrdered"]
    assert len({o["case_id"] for o in orders}) == 1
    # medium: 5 working days (16 March), but never before the 19th given on site;
    # high: 3 working days (12 March), later than the 10th given on site.
    by_item = {o["item"]: o["deadline"] for o in orders}
    assert by_item == {"fire_extinguisher_missing": "2026-03-19", "wiring_exposed": "2026-03-12"}


async def test_a_late_declaration_is_warned_and_a_repeat_within_a_year_ordered(
    penalties: Running, published: Published
) -> None:
    svc = penalties
    await a_property(svc)

    def declared(
        residence_id: str, moved_in: date, on_time: bool, *, migrated: bool = False
    ) -> ResidenceDeclared:
        return ResidenceDeclared(
            residence_id=residence_id, property_id="P1", grid_id="WT-G03", room_no="201",
            moved_in_on=moved_in, declared_at=NOW, deadline=moved_in + timedelta(days=1),
            on_time=on_time, channel=Channel.LANDLORD_SELF_DECLARATION,
            migrated_at=NOW if migrated else None,
        )  # fmt: skip

    # Late in the office's previous records, brought over: dealt with then, no breach now
    # (and no first offence that would make R1 a repeat).
    await svc.deliver(declared("RM", date(2026, 2, 2), False, migrated=True))
    await svc.deliver(declared("R0", date(2026, 3, 8), True))  # on time: nothing
    await svc.deliver(declared("R1", date(2026, 3, 1), False))
    await svc.deliver(declared("R2", date(2026, 3, 4), False))
    await svc.drain()

    decisions = [(t, b.get("policy_version")) for t, b in published(svc)
                 if t in {"WarningIssued", "RectificationOrdered"}]  # fmt: skip
    assert [t for t, _ in decisions] == ["WarningIssued", "RectificationOrdered"]
    recorded = [b for t, b in published(svc) if t == "BreachRecorded"]
    assert [(b["breach_id"], b["repeat"]) for b in recorded] == [("R1", False), ("R2", True)]
    closed = [b for t, b in published(svc) if t == "CaseClosed"]
    assert [c["outcome"] for c in closed] == ["warned"]


async def test_a_missed_return_is_ordered_and_the_return_filed_carries_it_out(
    penalties: Running, published: Published
) -> None:
    svc = penalties
    await svc.deliver(
        EmployerRegistered(
            employer_id="E1",
            credit_code="91441900MA4UJ2XX1K",
            employer_name="Xinwei Mould",
            grid_id="WT-G03",
            address="3 Industrial Road",
        )
    )
    missed = EmployerReturnMissed(
        employer_id="E1", credit_code="91441900MA4UJ2XX1K", grid_id="WT-G03", month="2026-02",
        due_at=NOW - timedelta(days=4),
    )  # fmt: skip
    await svc.deliver(missed)
    await svc.deliver(missed, ce_id="again")
    await svc.deliver(EmployerReturnFiled(employer_id="E1", month="2026-02", filed_at=NOW))
    await svc.drain()

    types = [t for t, _ in published(svc)]
    assert types == [
        "CaseOpened", "BreachRecorded", "RectificationOrdered", "RectificationVerified",
        "CaseClosed",
    ]  # fmt: skip
    (notice,) = [b for _, b in published(svc, NOTICES_TOPIC)]
    assert notice["recipient"]["name"] == "Xinwei Mould"
    assert notice["recipient"]["party_id"] == "91441900MA4UJ2XX1K"
    assert "2026-02" in notice["facts"]


async def test_a_rental_a_sweep_found_unregistered_is_a_case_of_its_landlord(
    penalties: Running, published: Published
) -> None:
    svc = penalties
    await svc.deliver(
        PropertyRegistered(
            property_id="P7",
            grid_id="WT-G03",
            address="7 Lane",
            landlord_id="LL-P7",
            registered_at=NOW,
            discovery_id="D1",
        )
    )
    await svc.drain()

    opened = dict(published(svc))["CaseOpened"]
    assert (opened["property_id"], opened["grouping_key"]) == ("P7", "discovery:D1")
    recorded = dict(published(svc))["BreachRecorded"]
    assert recorded["breach"] == "unregistered_rental"


async def test_a_public_event_or_notice_names_no_one(
    penalties: Running, published: Published
) -> None:
    svc = penalties
    await a_property(svc)
    await found_undeclared(svc, "F1")
    await svc.drain()

    for _, body in published(svc) + published(svc, NOTICES_TOPIC):
        text = str(body)
        assert "identity" not in text and "phone" not in text
