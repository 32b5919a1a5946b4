"""Inspection in-process on an in-memory broker (common.testing): the fixtures of its tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.auth import mint_token
from common.clock import FakeClock
from common.testing import Running, migrated_sqlite, run_service, sqlite_copy
from inspection.events import FINDINGS_TOPIC, TOPIC
from inspection.main import service
from inspection.settings import InspectionSettings

JWT_SECRET = "inspection-test-jwt-secret-0123456789"
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(service, tmp_path_factory.mktemp("inspection"))


@pytest.fixture
async def inspection(template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    settings = InspectionSettings(
        database_url=sqlite_copy(template, tmp_path), jwt_secret=JWT_SECRET
    )
    async with run_service(
        service, settings, clock=FakeClock(NOW), record=(TOPIC, FINDINGS_TOPIC)
    ) as running:
        yield running


@pytest.fixture
def staff() -> Callable[..., dict[str, str]]:
    """Authorization headers of office staff of the given grids."""

    def headers(*grids: str, role: str = "officer", sub: str | None = None) -> dict[str, str]:
        scopes = ["inspection:write", "inspection:read"]
        token = mint_token(JWT_SECRET, sub=sub or f"{role}-0317", role=role, scopes=scopes,
                           grids=list(grids))  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    return headers
