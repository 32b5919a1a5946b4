"""Registration in-process (common.testing) for the tools that drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.clock import FakeClock
from common.testing import Running, migrated_sqlite, run_service, sqlite_copy
from registration.main import service
from registration.settings import RegistrationSettings

JWT_SECRET = "seed-test-jwt-secret-0123456789abcdef"
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(scope="session")
def registration_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(service, tmp_path_factory.mktemp("seed-registration"))


@pytest.fixture
async def registration(registration_template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    settings = RegistrationSettings(
        database_url=sqlite_copy(registration_template, tmp_path),
        jwt_secret=JWT_SECRET,
        pii_key="seed-test-pii-key",
        pii_hash_key="seed-test-pii-hash-key",
    )
    async with run_service(service, settings, clock=FakeClock(NOW)) as running:
        yield running
