"""Inspection findings -> declarations: the occupants officers find on their visits.

``inspection.OccupantFound`` carries the occupant's identity, so it comes on the
restricted ``inspection.findings.restricted`` (see :mod:`registration.upstream`); its
dead letters (``.dlq``) hold the same personal data and are restricted alike.
"""

from __future__ import annotations

from faststream.middlewares import AckPolicy

from common.inbox import DLQ_SUFFIX, Inbox, raw_body
from common.runtime import Runtime
from registration.app.handlers import RegistrationService
from registration.events import PERSONS_TOPIC
from registration.upstream import FINDINGS_TOPIC, OccupantFound

FINDINGS_GROUP = "registration.findings"

TOPICS = (PERSONS_TOPIC, FINDINGS_TOPIC, FINDINGS_TOPIC + DLQ_SUFFIX)
"""The topics of persons and findings: published to, consumed, and dead letters."""


def register_finding_consumer(runtime: Runtime, service: RegistrationService) -> Inbox:
    """``inspection.OccupantFound`` -> a residence declared with channel ``officer``."""
    findings = Inbox(
        FINDINGS_GROUP,
        runtime.sessionmaker,
        {OccupantFound: service.on_occupant_found},
        clock=runtime.clock,
        dead_letter=runtime.dead_letter,
        max_attempts=runtime.settings.consumer_max_attempts,
        backoff_s=runtime.settings.consumer_backoff_s,
    )
    runtime.broker.subscriber(
        FINDINGS_TOPIC,
        group_id=FINDINGS_GROUP,
        batch=True,
        max_records=runtime.settings.consumer_batch_size,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_body,
        title=FINDINGS_GROUP,
        description="Declares the residences of occupants officers found (channel officer)",
    )(findings.batch_subscriber_handler())
    return findings
