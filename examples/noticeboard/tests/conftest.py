"""The noticeboard in-process on an in-memory broker (common.testing): a few lines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.auth import mint_token
from common.clock import FakeClock
from common.testing import Running, migrated_sqlite, run_service, sqlite_copy
from noticeboard.main import service
from noticeboard.settings import NoticeboardSettings

JWT_SECRET = "noticeboard-test-jwt-secret-0123456789"
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(service, tmp_path_factory.mktemp("noticeboard"))


@pytest.fixture
async def board(template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    settings = NoticeboardSettings(
        database_url=sqlite_copy(template, tmp_path), jwt_secret=JWT_SECRET
    )
    async with run_service(
        service, settings, clock=FakeClock(NOW), record=("noticeboard.events",)
    ) as running:
        yield running


@pytest.fixture
def officer() -> Callable[..., dict[str, str]]:
    """Authorization headers of an officer of the given grids."""

    def headers(*grids: str) -> dict[str, str]:
        scopes = ["noticeboard:write", "noticeboard:read"]
        token = mint_token(JWT_SECRET, sub="officer-0317", role="officer", scopes=scopes,
                           grids=list(grids))  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    return headers
