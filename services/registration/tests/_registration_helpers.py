"""Helpers of the registration service tests: constants, callers, commands, observations.

A uniquely named module (not ``conftest``) so that test modules can import it; the
fixtures that build the service live in ``conftest.py`` beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Table, func, select

from common.auth import mint_token
from common.db import idempotency_keys, outbox
from common.identity import check_character
from common.pii import PiiCipher
from common.testing import Record, drain
from registration.adapters.persons_tables import persons
from registration.adapters.residences_tables import properties, residences

JWT_SECRET = "registration-test-jwt-secret-0123456789"
PII_KEY = "registration-test-pii-key"
PII_HASH_KEY = "registration-test-pii-hash-key"
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday
MONTH = "2026-03"
TOPIC = "registration.events"
DLQ = "registration.events.dlq"
PERSONS_TOPIC = "registration.persons.restricted"
FINDINGS_DLQ = "inspection.findings.restricted.dlq"


def id_number(first17: str = "44030619900101123") -> str:
    """A valid resident identity number with the given first 17 digits."""
    return first17 + check_character(first17)


@dataclass
class Registration:
    app: FastAPI
    client: httpx.AsyncClient
    db_path: Path
    published: list[Record] = field(default_factory=list)
    dead_letters: list[Record] = field(default_factory=list)
    cipher: PiiCipher = field(default_factory=lambda: PiiCipher(PII_KEY, PII_HASH_KEY))
    restricted: list[Record] = field(default_factory=list)  # registration.persons.restricted
    finding_dead_letters: list[Record] = field(default_factory=list)

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    # -- callers ---------------------------------------------------------------------
    @staticmethod
    def auth(
        role: str,
        *,
        scopes: tuple[str, ...] = ("registration:write", "registration:read"),
        grids: tuple[str, ...] = (),
        party_id: str | None = None,
        sub: str | None = None,
    ) -> dict[str, str]:
        token = mint_token(
            JWT_SECRET,
            sub=sub or f"{role}-{party_id or '-'.join(grids) or 'x'}",
            role=role,
            scopes=list(scopes),
            grids=list(grids),
            party_id=party_id,
        )
        return {"Authorization": f"Bearer {token}"}

    def landlord(self, party_id: str = "L1") -> dict[str, str]:
        return self.auth("landlord", party_id=party_id)

    def officer(self, *scopes: str, grids: tuple[str, ...] = ("G1",)) -> dict[str, str]:
        return self.auth("officer", scopes=scopes or ("registration:read",), grids=grids)

    # -- commands --------------------------------------------------------------------
    async def register_property(
        self,
        headers: dict[str, str] | None = None,
        *,
        key: str = "prop-key-1",
        grid_id: str = "G1",
        landlord_id: str = "L1",
        rooms: list[dict[str, Any]] | None = None,
    ) -> httpx.Response:
        body = {
            "address": "12 Wentang Road, Building 3",
            "grid_id": grid_id,
            "landlord_id": landlord_id,
            "rooms": rooms
            or [{"room_no": "101", "capacity": 2}, {"room_no": "102", "capacity": 1}],
        }
        return await self.client.post(
            "/properties",
            json=body,
            headers={**(headers or self.landlord()), "Idempotency-Key": key},
        )

    async def new_property(self, **kw: Any) -> str:
        response = await self.register_property(**kw)
        assert response.status_code == 201, response.text
        return str(response.json()["property_id"])

    async def declare(
        self,
        property_id: str,
        headers: dict[str, str] | None = None,
        *,
        key: str = "move-in-key-1",
        **overrides: Any,
    ) -> httpx.Response:
        body = {
            "id_number": id_number(),
            "name": "王小明",
            "phone": "13800138000",
            "room_no": "101",
            "moved_in_on": "2026-03-02",
            **overrides,
        }
        return await self.client.post(
            f"/properties/{property_id}/residences",
            json=body,
            headers={**(headers or self.landlord()), "Idempotency-Key": key},
        )

    # -- observations ----------------------------------------------------------------
    async def count(self, table: Table) -> int:
        async with self.runtime.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

    async def state(self) -> dict[str, int]:
        """Row counts a refused command must leave as they were."""
        tables = {
            "properties": properties,
            "persons": persons,
            "residences": residences,
            "outbox": outbox,
            "keys": idempotency_keys,
        }
        return {name: await self.count(table) for name, table in tables.items()}

    async def rows(self, table: Table) -> list[Any]:
        async with self.runtime.sessionmaker() as session:
            return list((await session.execute(select(table))).all())

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait until the service's own relay has published every outbox row."""
        await drain(self.runtime, timeout_s)

    def relayed(self) -> list[Record]:
        """Messages the relay published (those carrying a CloudEvents type)."""
        return [r for r in self.published if "ce_type" in r.headers]

    def relayed_of(self, *names: str) -> list[Record]:
        """Relayed events of the given names (``ResidenceDeclared``, ...), in order."""
        return [r for r in self.relayed() if r.headers["ce_type"].split(".")[1] in names]
