"""Penalties' subscribers: registration's and inspection's public events -> breaches."""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from penalties.app.intake import Intake
from penalties.upstream.inspection import INSPECTION_TOPIC
from penalties.upstream.registration import REGISTRATION_TOPIC

REGISTRATION_GROUP = "penalties.registration"
INSPECTION_GROUP = "penalties.inspection"


def register_consumers(runtime: Runtime, intake: Intake) -> list[Inbox]:
    registration = runtime.inbox(
        REGISTRATION_GROUP, intake.registration_handlers(), foreign_topic=True
    )
    runtime.subscribe(
        REGISTRATION_TOPIC,
        REGISTRATION_GROUP,
        registration.handle_batch,
        description="Keeps the parties (landlords, employers) and opens cases of undeclared "
        "occupants, late declarations, missed returns and unregistered rentals",
    )
    inspection = runtime.inbox(INSPECTION_GROUP, intake.inspection_handlers(), foreign_topic=True)
    runtime.subscribe(
        INSPECTION_TOPIC,
        INSPECTION_GROUP,
        inspection.handle_batch,
        description="Opens cases of hazards found on visits; follow-up visits verify orders",
    )
    return [registration, inspection]
