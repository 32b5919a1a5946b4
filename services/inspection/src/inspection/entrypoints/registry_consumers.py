"""The registry's subscriber: registration's public events -> inspection's registry."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from inspection.app.registry import handlers
from inspection.app.verification import Verifications
from inspection.upstream.registration import REGISTRATION_TOPIC

REGISTRY_GROUP = "inspection.registry"


def register_registry_consumer(runtime: Runtime, verifications: Verifications) -> Inbox:
    registry = runtime.inbox(
        REGISTRY_GROUP,
        handlers(on_lead=verifications.on_lead, on_lead_closed=verifications.on_lead_closed),
        foreign_topic=True,
    )
    runtime.subscribe(
        REGISTRATION_TOPIC,
        REGISTRY_GROUP,
        registry.handle_batch,
        description="Keeps inspection's registry (properties, residences, leads) and its "
        "verification tasks",
    )
    return registry
