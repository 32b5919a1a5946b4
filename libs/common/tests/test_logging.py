"""Service logs: retried Kafka client errors are warnings, not errors (issue 7)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from aiokafka import errors

from common.logging import configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging binds the (captured) stdout of the test: put logging back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


def last_line(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    result: dict[str, object] = json.loads(lines[-1])
    return result


def test_a_retriable_kafka_error_the_client_retries_is_logged_as_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("logtest", "INFO", json=True)
    coordinator = logging.getLogger("aiokafka.consumer.group_coordinator")

    coordinator.error("Group Coordinator Request failed: %s", errors.CoordinatorNotAvailableError())
    retried = last_line(capsys)
    coordinator.error("Unexpected error from SyncGroup: %s", errors.InvalidSessionTimeoutError())
    fatal = last_line(capsys)

    assert retried["level"] == "warning" and "CoordinatorNotAvailable" in str(retried["event"])
    assert fatal["level"] == "error"


def test_other_libraries_errors_keep_their_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("logtest", "INFO", json=True)

    logging.getLogger("uvicorn.error").error("bind failed: %s", errors.KafkaConnectionError())

    assert last_line(capsys)["level"] == "error"
