"""Integration tier: real Kafka (or Tansu) and real PostgreSQL, services as processes.

Infrastructure comes from the devstack pytest plugin (environment addresses, then
testcontainers, then the local launchers) and never silently skips.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.kafka import create_topics
from devstack.pytest_plugin import DatabaseProvider
from inspection.main import service as inspection
from penalties.main import service as penalties
from registration.main import service
from tests.integration.services import (
    ServiceProcess,
    inspection_env,
    penalties_env,
    registration_env,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def kafka(kafka_bootstrap: str) -> str:
    create_topics(kafka_bootstrap, service.topic_names(), partitions=3)
    return kafka_bootstrap


@pytest.fixture(scope="session")
def tansu(embedded_bootstrap: str) -> str:
    create_topics(embedded_bootstrap, service.topic_names(), partitions=3)
    return embedded_bootstrap


@pytest.fixture
def registration(kafka: str, pg_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    """A migrated registration database on PostgreSQL; processes started by the test."""
    service = ServiceProcess("registration", registration_env(kafka, pg_url), tmp_path)
    service.migrate()
    yield service
    service.stop()


@pytest.fixture
def inspection_service(
    kafka: str, postgres_cluster: DatabaseProvider, tmp_path: Path
) -> Iterator[ServiceProcess]:
    """A migrated inspection database of its own (and inspection's topics); the process
    is started by the test."""
    create_topics(kafka, inspection.topic_names(), partitions=3)
    create_topics(kafka, penalties.topic_names(), partitions=3)  # what it consumes
    database = postgres_cluster.create_database(f"t_inspection_{uuid.uuid4().hex[:8]}")
    office = ServiceProcess("inspection", inspection_env(kafka, database), tmp_path)
    office.migrate()
    yield office
    office.stop()


@pytest.fixture
def penalties_service(
    kafka: str, postgres_cluster: DatabaseProvider, tmp_path: Path
) -> Iterator[ServiceProcess]:
    """A migrated penalties database of its own (and penalties' topics); the process is
    started by the test."""
    create_topics(kafka, penalties.topic_names(), partitions=3)
    create_topics(kafka, inspection.topic_names(), partitions=3)  # what it consumes
    database = postgres_cluster.create_database(f"t_penalties_{uuid.uuid4().hex[:8]}")
    office = ServiceProcess("penalties", penalties_env(kafka, database), tmp_path)
    office.migrate()
    yield office
    office.stop()
