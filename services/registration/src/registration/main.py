"""Wiring only: settings -> runtime -> handlers, routes, subscribers; and the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from common.clock import Clock, SystemClock
from common.http import asyncapi_document as build_asyncapi
from common.http import create_service_app
from common.inbox import DLQ_SUFFIX
from common.logging import configure_logging
from common.pii import PiiCipher
from common.publisher import Publisher
from common.runtime import Runtime, build_runtime
from registration.app.agreements import EXPIRY_TIMER, AgreementService
from registration.app.employment import RETURN_TIMER, EmploymentService
from registration.app.handlers import RegistrationService
from registration.app.persons import RESTRICTED_TOPICS, sealer, unsealer
from registration.app.places import PlacesService
from registration.app.reconciliation import ReconciliationService
from registration.entrypoints.consumers import register_consumers
from registration.entrypoints.employment_http import build_employment_router
from registration.entrypoints.findings_consumers import TOPICS as FINDINGS_TOPICS
from registration.entrypoints.findings_consumers import register_finding_consumer
from registration.entrypoints.http import build_router
from registration.entrypoints.places_consumers import TOPICS as PLACES_TOPICS
from registration.entrypoints.places_consumers import register_places_consumers
from registration.entrypoints.places_http import build_places_router
from registration.entrypoints.reconciliation_consumers import TOPICS as RECONCILIATION_TOPICS
from registration.entrypoints.reconciliation_consumers import register_reconciliation_consumers
from registration.entrypoints.reconciliation_http import build_reconciliation_router
from registration.events import (
    PERSONS_TOPIC,
    TOPIC,
    AgreementExpired,
    AgreementRenewed,
    AgreementRevoked,
    AgreementSigned,
    EmployerRegistered,
    EmployerReturnFiled,
    EmployerReturnMissed,
    EmploymentDeclared,
    EmploymentEnded,
    GridRegistered,
    LeadClosed,
    PersonCorrected,
    PersonIdentityRecorded,
    PersonRegistered,
    PropertyManagerAssigned,
    PropertyManagerRemoved,
    PropertyRegistered,
    ResidenceDeclared,
    ResidenceEnded,
    UnregisteredOccupantSuspected,
)
from registration.settings import RegistrationSettings, parse_timezone

NAME = "registration"
VERSION = "0.1.0"
TITLE = "Registration service"
DESCRIPTION = (
    "The system of record for the base numbers: rental properties and rooms, persons, "
    "and the declarations of who lives where. Publishes on `registration.events`."
)
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
TOPICS = tuple(dict.fromkeys((TOPIC, TOPIC + DLQ_SUFFIX, *PLACES_TOPICS, *RECONCILIATION_TOPICS)))
TOPICS += tuple(t for t in FINDINGS_TOPICS if t not in TOPICS)


def publisher(settings: RegistrationSettings, clock: Clock) -> Publisher:
    """How every registration handler stages its events: identity records sealed."""
    return Publisher.of(
        f"/services/{NAME}",
        clock,
        seal=sealer(_cipher(settings)),
        sealed_topics=RESTRICTED_TOPICS,
    )


def employment_service(settings: RegistrationSettings, clock: Clock) -> EmploymentService:
    return EmploymentService(
        publisher=publisher(settings, clock),
        clock=clock,
        cipher=_cipher(settings),
        policy=settings.employer_return_policy(),
    )


def agreement_service(settings: RegistrationSettings, clock: Clock) -> AgreementService:
    return AgreementService(
        publisher=publisher(settings, clock), clock=clock, policy=settings.agreement_policy()
    )


def reconciliation_service(settings: RegistrationSettings, clock: Clock) -> ReconciliationService:
    declarations = RegistrationService(
        publisher=publisher(settings, clock),
        clock=clock,
        cipher=_cipher(settings),
        policy=settings.declaration_policy(),
    )
    return ReconciliationService(
        publisher=publisher(settings, clock),
        clock=clock,
        cipher=_cipher(settings),
        policy=settings.lead_policy(),
        declarations=declarations,
        sightings_retention_days=settings.sightings_retention_days,
    )


def _cipher(settings: RegistrationSettings) -> PiiCipher:
    return PiiCipher(settings.pii_key.get_secret_value(), settings.pii_hash_key.get_secret_value())


def build(
    settings: RegistrationSettings,
    clock: Clock | None = None,
    employment: EmploymentService | None = None,
    agreements: AgreementService | None = None,
    reconciliation: ReconciliationService | None = None,
) -> tuple[Runtime, Any]:
    clock = clock or SystemClock()
    reconciliation = reconciliation or reconciliation_service(settings, clock)
    employment = employment or employment_service(settings, clock)
    agreements = agreements or agreement_service(settings, clock)
    runtime = build_runtime(
        NAME,
        settings,
        clock=clock,
        timer_handlers={
            RETURN_TIMER: employment.on_return_due,
            EXPIRY_TIMER: agreements.on_expiry_due,
        },
        unseal=unsealer(_cipher(settings)),  # restricted events are sealed in the outbox
    )
    service = RegistrationService(
        publisher=publisher(settings, runtime.clock),
        clock=runtime.clock,
        cipher=_cipher(settings),
        policy=settings.declaration_policy(),
    )
    # Documented in the AsyncAPI document; events are sent by the outbox relay.
    runtime.broker.publisher(
        TOPIC,
        title=TOPIC,
        schema=PropertyRegistered
        | ResidenceDeclared
        | EmployerRegistered
        | EmploymentDeclared
        | EmploymentEnded
        | EmployerReturnFiled
        | EmployerReturnMissed
        | GridRegistered
        | PropertyManagerAssigned
        | PropertyManagerRemoved
        | AgreementSigned
        | AgreementRenewed
        | AgreementRevoked
        | AgreementExpired
        | UnregisteredOccupantSuspected
        | LeadClosed
        | PersonRegistered
        | PersonCorrected
        | ResidenceEnded,
        description="Registration's public events (CloudEvents, binary mode); key = ce_subject",
    )
    runtime.broker.publisher(
        PERSONS_TOPIC,
        title=PERSONS_TOPIC,
        schema=PersonIdentityRecorded,
        description=(
            "RESTRICTED: full identity records of persons, for entitled consumers only "
            "(Kafka ACLs); key = person_ref"
        ),
    )
    if settings.run_consumers:
        register_consumers(runtime)
        register_places_consumers(runtime, places_service(runtime, settings))
        register_reconciliation_consumers(
            runtime, reconciliation, feed_batch_size=settings.access_consumer_batch_size
        )
        register_finding_consumer(runtime, service)
    return runtime, service


def places_service(runtime: Runtime, settings: RegistrationSettings) -> PlacesService:
    return PlacesService(
        publisher=publisher(settings, runtime.clock),
        clock=runtime.clock,
        cipher=_cipher(settings),
        timezone=parse_timezone(settings.office_timezone),
    )


def create_app(
    settings: RegistrationSettings | None = None, *, clock: Clock | None = None
) -> FastAPI:
    settings = settings or RegistrationSettings()
    clock = clock or SystemClock()
    employment = employment_service(settings, clock)
    agreements = agreement_service(settings, clock)
    reconciliation = reconciliation_service(settings, clock)
    runtime, service = build(settings, clock, employment, agreements, reconciliation)
    app = create_service_app(
        runtime,
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        routers=[
            # First: its /properties/without-agreement and /employers/without-agreement
            # must not be taken for /properties/{id} and /employers/{id}.
            build_places_router(runtime, places_service(runtime, settings), agreements),
            build_router(runtime, service),
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
    )
    return app


def asyncapi_document() -> dict[str, Any]:
    """The committed AsyncAPI document (``schemas/registration/asyncapi.json``)."""
    settings = RegistrationSettings(
        database_url="sqlite+aiosqlite://", kafka_bootstrap_servers="kafka:9092"
    )
    runtime, _ = build(settings)
    doc: dict[str, Any] = build_asyncapi(
        runtime, title=TITLE, version=VERSION, description=DESCRIPTION
    ).to_jsonable()
    return doc


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {NAME}", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API, the outbox relay and the consumers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--migrate", action="store_true", help="migrate the database first")
    sub.add_parser("migrate", help="upgrade the database to the latest migration")
    sub.add_parser("topics", help="print the Kafka topics this service needs")
    demo = sub.add_parser("demo", help="drive one declaration end to end against a running API")
    demo.add_argument("--base-url", required=True)
    district = sub.add_parser("district", help="create the demo district through the HTTP API")
    district.add_argument("--base-url", required=True)
    district.add_argument("--scale", type=float, default=1.0, help="of DOMAIN.md's figures")
    district.add_argument("--seed", type=int, default=1)
    district.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)

    settings = RegistrationSettings()
    if args.command == "topics":
        print("\n".join(TOPICS))
        return 0
    if args.command == "demo":
        from registration.demo import run_demo

        code = run_demo(args.base_url, settings.jwt_secret.get_secret_value())
        # `make run` seeds a small district after the end-to-end check (see Makefile).
        scale = float(os.environ.get("REGISTRATION_DEMO_DISTRICT_SCALE") or 0)
        if code == 0 and scale > 0:
            from registration.district import run_district

            code = run_district(args.base_url, settings.jwt_secret.get_secret_value(), scale=scale)
        return code
    if args.command == "district":
        from registration.district import run_district

        return run_district(
            args.base_url,
            settings.jwt_secret.get_secret_value(),
            scale=args.scale,
            seed=args.seed,
            concurrency=args.concurrency,
        )
    configure_logging(NAME, settings.log_level, json=settings.log_json)
    if args.command == "migrate" or args.migrate:
        from common.migrations import upgrade

        upgrade(MIGRATIONS, settings.database_url)
        if args.command == "migrate":
            return 0
    import uvicorn

    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        limit_concurrency=settings.http_limit_concurrency,
    )
    return 0


if __name__ == "__main__":
    sys.exit(cli())
