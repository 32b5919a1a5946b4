"""The registry's subscriber: registration's public events -> inspection's registry."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from inspection.app.registry import HANDLERS
from inspection.upstream.registration import REGISTRATION_TOPIC

REGISTRY_GROUP = "inspection.registry"


def register_registry_consumer(runtime: Runtime) -> Inbox:
    registry = runtime.inbox(REGISTRY_GROUP, HANDLERS, foreign_topic=True)
    runtime.subscribe(
        REGISTRATION_TOPIC,
        REGISTRY_GROUP,
        registry.handle_batch,
        description="Keeps inspection's registry: properties, residences and open leads",
    )
    return registry
