"""Penalties, declared (common.service): its topics, its events, the wiring of its parts."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from common.service import Kit, Parts, Service, Topic
from penalties.app.cases import Cases
from penalties.app.enforcement import ORDER_DUE, Enforcement
from penalties.app.intake import Intake
from penalties.app.schedules import Schedules
from penalties.domain.cases import Deadlines
from penalties.entrypoints.cases_http import build_cases_router
from penalties.entrypoints.consumers import register_consumers
from penalties.entrypoints.schedules_http import build_schedules_router
from penalties.events import NOTICES_TOPIC, TOPIC
from penalties.settings import PenaltiesSettings


def wire(kit: Kit[PenaltiesSettings]) -> Parts:
    settings = kit.settings
    deadlines = Deadlines(settings.working_calendar(), settings.timezone())
    enforcement = Enforcement(publisher=kit.publisher, clock=kit.clock, deadlines=deadlines)
    cases = Cases(
        enforcement=enforcement, publisher=kit.publisher, clock=kit.clock, cipher=kit.cipher
    )
    schedules = Schedules(clock=kit.clock, default=settings.default_schedule, deadlines=deadlines)
    return Parts(
        routers=[
            build_schedules_router(kit.runtime, schedules),
            build_cases_router(kit.runtime, cases),
        ],
        consumers=[partial(register_consumers, intake=Intake(enforcement))],
        timers={ORDER_DUE: enforcement.on_order_due},
        on_startup=partial(schedules.load_default, kit.runtime.sessionmaker),
    )


service = Service(
    name="penalties",
    version="0.1.0",
    title="Penalties service",
    description=(
        "Breaches become cases, rectification orders (責令整改) and fines (處罰) under an "
        "effective-dated schedule that is policy; an order open past its deadline escalates "
        "by itself. Publishes on `penalties.events`; notices with their recipient's details "
        "go to outreach on `penalties.notices.restricted`."
    ),
    settings=PenaltiesSettings,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    topics=(
        Topic(TOPIC, "Penalties' public events (CloudEvents, binary mode); key = case_id"),
        Topic(
            NOTICES_TOPIC,
            "RESTRICTED: notices served on parties with the recipient's details, for "
            "outreach (Kafka ACLs); key = case_id",
            restricted=True,
        ),
    ),
    wire=wire,
)

if __name__ == "__main__":
    sys.exit(service.cli())
