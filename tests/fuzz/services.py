"""The services built on the kit (found as ``devstack`` and the contract tools find them),
and their fuzzers."""

from __future__ import annotations

import importlib
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from common.fuzzing import Fuzzer
from common.service import Service
from devstack.pytest_plugin import DatabaseProvider
from devstack.stack import discover_services

REPO = Path(__file__).resolve().parents[2]


def kit_services(root: Path = REPO) -> dict[str, Service[Any]]:
    """Every service devstack finds under ``services/``, then the examples."""
    modules = [spec.module for spec in discover_services(root)]
    modules += sorted(
        path.name for path in (root / "examples").iterdir() if (path / "pyproject.toml").is_file()
    )
    found: dict[str, Service[Any]] = {}
    for module in modules:
        service = importlib.import_module(f"{module}.main").service
        assert isinstance(service, Service), f"{module}.main.service is not a Service"
        found[service.name] = service
    return found


SERVICES = kit_services()

EXTRA_SCOPES: dict[str, tuple[str, ...]] = {"registration": ("pii:reveal",)}
"""Scopes a handler checks itself (``Principal.has_scope``) rather than through
``common.auth.requires``, so its OpenAPI document does not name them; the fuzzer's
tokens carry every scope the document names, and these."""


class Fuzzers:
    """One service's :class:`Fuzzer` at a time: started for the first test of a service,
    stopped (and its database dropped) when the tests move on to the next service. A
    service that cannot be started (its migrations fail...) fails its other tests at once."""

    def __init__(self, cluster: DatabaseProvider) -> None:
        self.cluster = cluster
        self.name: str | None = None
        self.database: str | None = None
        self.active: Fuzzer | None = None
        self.broken: dict[str, str] = {}

    def get(self, name: str) -> Fuzzer:
        if name in self.broken:
            pytest.fail(f"{name} could not be started for fuzzing: {self.broken[name]}")
        if self.name != name or self.active is None:
            self.close()
            slug = re.sub(r"[^a-z0-9_]+", "_", name.lower())
            database = f"fuzz_{slug}_{uuid.uuid4().hex[:8]}"
            url = self.cluster.create_database(database)
            self.name, self.database = name, database
            fuzzer = Fuzzer(SERVICES[name], url, scopes=EXTRA_SCOPES.get(name, ()))
            try:
                self.active = fuzzer.__enter__()
            except Exception as exc:
                self.broken[name] = f"{type(exc).__name__}: {exc}"
                raise
        return self.active

    def close(self) -> None:
        active, database = self.active, self.database
        self.active = self.name = self.database = None
        try:
            if active is not None:
                active.__exit__(None, None, None)
        finally:
            if database is not None:
                self.cluster.drop_database(database)
