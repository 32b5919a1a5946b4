"""Inspection findings -> declarations: the occupants officers find on their visits.

``inspection.OccupantFound`` carries the occupant's identity, so it comes on the
restricted ``inspection.findings.restricted`` (see :mod:`registration.upstream.inspection`); its
dead letters (``.dlq``) hold the same personal data and are restricted alike.
"""

from __future__ import annotations

from common.inbox import Inbox
from common.runtime import Runtime
from registration.app.residences import ResidenceService
from registration.upstream.inspection import FINDINGS_TOPIC, OccupantFound

FINDINGS_GROUP = "registration.findings"

"""The topics of persons and findings: published to, consumed, and dead letters."""


def register_finding_consumer(runtime: Runtime, service: ResidenceService) -> Inbox:
    """``inspection.OccupantFound`` -> a residence declared with channel ``officer``."""
    findings = runtime.inbox(FINDINGS_GROUP, {OccupantFound: service.on_occupant_found})
    runtime.subscribe(
        FINDINGS_TOPIC,
        FINDINGS_GROUP,
        findings.handle_batch,
        description="Declares the residences of occupants officers found (channel officer)",
    )
    return findings
