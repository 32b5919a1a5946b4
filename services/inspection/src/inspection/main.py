"""Inspection, declared (common.service): its topics, its events, the wiring of its parts."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from common.service import Kit, Parts, Service, Topic
from inspection.app.assessment import Assessment
from inspection.app.cross import CrossInspections
from inspection.app.follow_ups import FollowUps
from inspection.app.plans import Plans
from inspection.app.sweeps import Sweeps
from inspection.app.verification import DUE_TIMER, Verifications
from inspection.app.visits import Visits
from inspection.entrypoints.cross_http import build_cross_router
from inspection.entrypoints.follow_ups_consumers import register_follow_ups_consumer
from inspection.entrypoints.follow_ups_http import build_follow_ups_router
from inspection.entrypoints.plans_http import build_assessment_router, build_plans_router
from inspection.entrypoints.registry_consumers import register_registry_consumer
from inspection.entrypoints.registry_http import build_registry_router
from inspection.entrypoints.sweeps_http import build_sweeps_router
from inspection.entrypoints.verification_http import build_verification_router
from inspection.entrypoints.visits_http import build_visits_router
from inspection.events import FINDINGS_TOPIC, TOPIC
from inspection.settings import InspectionSettings


def wire(kit: Kit[InspectionSettings]) -> Parts:
    settings = kit.settings
    plans = Plans(
        publisher=kit.publisher,
        clock=kit.clock,
        timezone=settings.timezone(),
        policy=settings.sampling_policy(),
    )
    visits = Visits(
        publisher=kit.publisher,
        clock=kit.clock,
        cipher=kit.cipher,
        hazards=settings.hazard_policy(),
        shifts=settings.shift_policy(),
    )
    verifications = Verifications(
        publisher=kit.publisher, clock=kit.clock, policy=settings.verification_policy()
    )
    follow_ups = FollowUps(clock=kit.clock, timezone=settings.timezone())
    return Parts(
        routers=[
            build_plans_router(
                kit.runtime,
                plans,
                max_size=settings.plan_max_size,
                evening_share=settings.evening_share,
            ),
            build_registry_router(kit.runtime),
            build_visits_router(kit.runtime, visits),
            build_verification_router(kit.runtime, verifications),
            build_follow_ups_router(kit.runtime, follow_ups),
            build_sweeps_router(kit.runtime, Sweeps(publisher=kit.publisher, clock=kit.clock)),
            build_cross_router(
                kit.runtime,
                CrossInspections(
                    publisher=kit.publisher, clock=kit.clock, timezone=settings.timezone()
                ),
            ),
            build_assessment_router(
                kit.runtime,
                Assessment(
                    timezone=settings.timezone(), evening_share_wanted=settings.evening_share
                ),
            ),
        ],
        consumers=[
            partial(register_registry_consumer, verifications=verifications),
            partial(register_follow_ups_consumer, follow_ups=follow_ups),
        ],
        timers={DUE_TIMER: verifications.on_due},
    )


service = Service(
    name="inspection",
    version="0.1.0",
    title="Inspection service",
    description=(
        "Keeping it under control (管得住): spot-check plans drawn by risk from the registry "
        "it keeps of registration's events. Publishes on `inspection.events`; the occupants "
        "officers meet go to registration on `inspection.findings.restricted`."
    ),
    settings=InspectionSettings,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    topics=(
        Topic(TOPIC, "Inspection's public events (CloudEvents, binary mode); key = ce_subject"),
        Topic(
            FINDINGS_TOPIC,
            "RESTRICTED: occupants met on visits with their identity, for registration only "
            "(Kafka ACLs); key = property_id",
            restricted=True,
        ),
    ),
    wire=wire,
)

if __name__ == "__main__":
    sys.exit(service.cli())
