"""Registration, declared: its topics, its events, the wiring of its parts (common.service)."""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from common.service import Kit, Parts, Service, Topic
from registration.app.agreements import EXPIRY_TIMER, AgreementService
from registration.app.employment import RETURN_TIMER, EmploymentService
from registration.app.places import PlacesService
from registration.app.reconciliation import ReconciliationService
from registration.app.residences import ResidenceService
from registration.entrypoints.agreements_http import build_agreements_router
from registration.entrypoints.employment_http import build_employment_router
from registration.entrypoints.figures_consumers import register_figures_consumer
from registration.entrypoints.figures_http import build_figures_router
from registration.entrypoints.findings_consumers import register_finding_consumer
from registration.entrypoints.persons_http import build_persons_router
from registration.entrypoints.places_consumers import register_places_consumers
from registration.entrypoints.places_http import build_places_router
from registration.entrypoints.reconciliation_consumers import register_reconciliation_consumers
from registration.entrypoints.reconciliation_http import build_reconciliation_router
from registration.entrypoints.residences_http import build_residences_router
from registration.events import PERSONS_TOPIC, TOPIC
from registration.settings import RegistrationSettings


def wire(kit: Kit[RegistrationSettings]) -> Parts:
    """Registration's handlers, each built once, and the routes and consumers over them."""
    settings, runtime = kit.settings, kit.runtime
    publisher, clock, cipher = kit.publisher, kit.clock, kit.cipher
    declarations = ResidenceService(
        publisher=publisher, clock=clock, cipher=cipher, policy=settings.declaration_policy()
    )
    places = PlacesService(
        publisher=publisher, clock=clock, cipher=cipher, timezone=settings.timezone()
    )
    employment = EmploymentService(
        publisher=publisher, clock=clock, cipher=cipher, policy=settings.employer_return_policy()
    )
    agreements = AgreementService(
        publisher=publisher, clock=clock, policy=settings.agreement_policy()
    )
    reconciliation = ReconciliationService(
        publisher=publisher,
        clock=clock,
        cipher=cipher,
        policy=settings.lead_policy(),
        declarations=declarations,
        sightings_retention_days=settings.sightings_retention_days,
    )
    return Parts(
        # One router per feature. Agreements first: its /properties/without-agreement and
        # /employers/without-agreement must not be taken for /properties/{id} and
        # /employers/{id}.
        routers=[
            build_agreements_router(runtime, agreements),
            build_places_router(runtime, places),
            build_figures_router(runtime, agreements.policy),
            build_residences_router(runtime, declarations),
            build_persons_router(runtime, declarations),
            build_employment_router(
                runtime,
                employment,
                roster_max_rows=settings.roster_max_rows,
                roster_max_bytes=settings.roster_max_bytes,
            ),
            build_reconciliation_router(
                runtime,
                reconciliation,
                max_entries=settings.access_batch_max_entries,
                max_entry_bytes=settings.access_batch_max_bytes,
                list_max_rows=settings.five_elements_max_rows,
                list_max_bytes=settings.five_elements_max_bytes,
            ),
        ],
        consumers=[
            register_figures_consumer,
            partial(register_places_consumers, places=places),
            partial(
                register_reconciliation_consumers,
                service=reconciliation,
                feed_batch_size=settings.access_consumer_batch_size,
            ),
            partial(register_finding_consumer, service=declarations),
        ],
        timers={RETURN_TIMER: employment.on_return_due, EXPIRY_TIMER: agreements.on_expiry_due},
    )


service = Service(
    name="registration",
    version="0.1.0",
    title="Registration service",
    description=(
        "The system of record for the base numbers: rental properties and rooms, persons, "
        "and the declarations of who lives where. Publishes on `registration.events`."
    ),
    settings=RegistrationSettings,
    migrations=Path(__file__).resolve().parents[2] / "migrations",
    topics=(
        Topic(
            TOPIC,
            "Registration's public events (CloudEvents, binary mode); key = ce_subject",
        ),
        Topic(
            PERSONS_TOPIC,
            "RESTRICTED: full identity records of persons, for entitled consumers only "
            "(Kafka ACLs); key = person_ref",
            restricted=True,
        ),
    ),
    wire=wire,
)

if __name__ == "__main__":
    sys.exit(service.cli())
