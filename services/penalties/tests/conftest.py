"""Penalties in-process on an in-memory broker (common.testing): the fixtures of its tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from common.auth import mint_token
from common.clock import FakeClock
from common.testing import Running, migrated_sqlite, run_service, sqlite_copy
from penalties.events import NOTICES_TOPIC, TOPIC
from penalties.main import service
from penalties.settings import PenaltiesSettings

JWT_SECRET = "penalties-test-jwt-secret-0123456789"
NOW = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Dongguan, a Monday


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_sqlite(service, tmp_path_factory.mktemp("penalties"))


@pytest.fixture
async def penalties(template: Path, tmp_path: Path) -> AsyncIterator[Running]:
    settings = PenaltiesSettings(
        database_url=sqlite_copy(template, tmp_path), jwt_secret=JWT_SECRET
    )
    async with run_service(
        service, settings, clock=FakeClock(NOW), record=(TOPIC, NOTICES_TOPIC)
    ) as running:
        yield running


@pytest.fixture
def staff() -> Callable[..., dict[str, str]]:
    """Authorization headers of office staff of the given grids."""

    def headers(*grids: str, role: str = "officer", sub: str | None = None) -> dict[str, str]:
        scopes = ["penalties:write", "penalties:read"]
        token = mint_token(JWT_SECRET, sub=sub or f"{role}-0317", role=role, scopes=scopes,
                           grids=list(grids))  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def party() -> Callable[..., dict[str, str]]:
    """Authorization headers of a landlord or employer (``party_id``: its own id)."""

    def headers(party_id: str, role: str = "landlord") -> dict[str, str]:
        scopes = ["penalties:write", "penalties:read"]
        token = mint_token(JWT_SECRET, sub=f"{role}-{party_id}", role=role, scopes=scopes,
                           party_id=party_id)  # fmt: skip
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def published() -> Callable[..., list[tuple[str, dict[str, Any]]]]:
    """(type, body) of what the service published on a topic, in order."""

    def events(svc: Running, topic: str = TOPIC) -> list[tuple[str, dict[str, Any]]]:
        return [
            (r.headers["ce_type"].split(".")[1], json.loads(r.body))
            for r in svc.records.get(topic, [])
        ]

    return events
