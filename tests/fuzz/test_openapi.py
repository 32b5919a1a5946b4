"""Every operation of every service's OpenAPI document, fuzzed (``common.fuzzing``).

Per operation: inputs the schema allows and inputs it forbids, as a caller the route
admits, as a landlord, and with every bad token. Any 5xx, any answer its document does
not describe, any change to the database on a refused request, any bad token let in, is
a failure listing each distinct finding with a ``curl`` line that replays it.
"""

from __future__ import annotations

import pytest

from common.fuzzing import OperationReport, operation_labels
from tests.fuzz.services import SERVICES, Fuzzers

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

OPERATIONS = [
    (name, label) for name, service in SERVICES.items() for label in operation_labels(service)
]

# Operations with a known defect, each with its reason: xfail(strict) keeps the rest of
# the tier meaningful until it is fixed (and fails the day it is, to be removed).
KNOWN: dict[tuple[str, str], str] = {}


def _param(name: str, label: str) -> object:
    marks = (
        [pytest.mark.xfail(strict=True, reason=KNOWN[(name, label)])]
        if (name, label) in KNOWN
        else []
    )
    return pytest.param(name, label, id=f"{name}:{label}", marks=marks)


@pytest.mark.parametrize(("service", "label"), [_param(*op) for op in OPERATIONS])
def test_operation(
    fuzzers: Fuzzers, service: str, label: str, fuzz_reports: list[OperationReport]
) -> None:
    report = fuzzers.get(service).fuzz(label)
    fuzz_reports.append(report)
    assert report.total > 0, f"{label}: no request was generated"
    if report.findings:
        pytest.fail(report.failure_message(), pytrace=False)


def test_every_service_is_fuzzed() -> None:
    """Registration and the example at least; a new service joins by existing."""
    assert {"registration", "noticeboard"} <= set(SERVICES)
    for name, service in SERVICES.items():
        assert operation_labels(service), f"{name} has no operation"
