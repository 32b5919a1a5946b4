"""The fuzz tier: every service built on the kit, its whole OpenAPI document fuzzed.

The services are those ``devstack`` runs (``services/*``, :func:`discover_services`)
and the kit's examples (``examples/*``), each found by its ``<module>.main.service``
declaration: a new service is fuzzed by existing. Each gets one PostgreSQL database
(from the devstack plugin's ``postgres_cluster``, as ``pg_url`` does, but one per
service rather than per test: migrating it and starting the app per operation would cost
a minute), migrated with its own migrations, shared by the tests of its operations, run
in document order (what an operation created, the next may find).

The summary at the end of the run lists how many requests each operation was sent,
by kind of caller and input, and the status codes they got.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from common.fuzzing import OperationReport
from devstack.pytest_plugin import DatabaseProvider
from tests.fuzz.services import Fuzzers

_REPORTS: list[OperationReport] = []


@pytest.fixture(scope="session")
def fuzzers(postgres_cluster: DatabaseProvider) -> Iterator[Fuzzers]:
    pool = Fuzzers(postgres_cluster)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def fuzz_reports() -> list[OperationReport]:
    """Where a test leaves its report, for the summary at the end of the run."""
    return _REPORTS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _REPORTS:
        return
    terminalreporter.section("fuzzing: requests per service and operation")
    for service in dict.fromkeys(r.service for r in _REPORTS):
        reports = [r for r in _REPORTS if r.service == service]
        total = sum(r.total for r in reports)
        seconds = sum(r.seconds for r in reports)
        terminalreporter.write_line(
            f"{service}: {total} requests to {len(reports)} operations in {seconds:.1f} s"
        )
        for report in reports:
            terminalreporter.write_line("  " + report.summary().removeprefix(f"{service} "))
