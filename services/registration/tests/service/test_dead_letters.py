"""Messages registration's consumers can never handle go to ``registration.events.dlq``.

Two of its consumer groups read the topic; each dead-letters what it cannot handle, and the
``dlq_consumer`` header tells their copies apart.
"""

from __future__ import annotations

import pytest
from _registration_helpers import DLQ, TOPIC, Record, Registration

from common.inbox import PoisonMessage
from registration.adapters.figures_tables import grid_month_figures
from registration.entrypoints.figures_consumers import FIGURES_GROUP
from registration.entrypoints.reconciliation_consumers import RECONCILIATION_GROUP
from registration.events import ResidenceDeclared

GROUPS = {FIGURES_GROUP, RECONCILIATION_GROUP}


def figures_copy(svc: Registration) -> Record:
    """The figures consumer's dead letter, after checking each group sent one."""
    by_group = {d.headers["dlq_consumer"]: d for d in svc.dead_letters}
    assert set(by_group) == GROUPS and len(svc.dead_letters) == len(GROUPS)
    return by_group[FIGURES_GROUP]


async def test_message_without_cloudevents_headers_is_dead_lettered(
    registration: Registration,
) -> None:
    svc = registration

    await svc.runtime.broker.publish(b'{"anything": 1}', TOPIC, key=b"prop-9")

    dead = figures_copy(svc)
    assert dead.topic == DLQ
    assert dead.key == b"prop-9"
    assert dead.body == b'{"anything": 1}'
    assert dead.headers["dlq_error"].startswith("missing CloudEvents headers")
    assert dead.headers["dlq_error_type"] == PoisonMessage.__name__
    assert dead.headers["dlq_original_topic"] == TOPIC
    assert dead.headers["dlq_attempts"] == "1"
    assert await svc.count(grid_month_figures) == 0


async def test_event_of_an_unknown_version_is_dead_lettered_with_its_headers(
    registration: Registration,
) -> None:
    svc = registration
    headers = {
        "ce_specversion": "1.0",
        "ce_id": "evt-from-the-future",
        "ce_type": "registration.ResidenceDeclared.v9",
        "ce_source": "/services/registration",
        "ce_subject": "prop-9",
    }

    await svc.runtime.broker.publish(b"{}", TOPIC, key=b"prop-9", headers=headers)

    dead = figures_copy(svc)
    assert "registration.ResidenceDeclared.v9" in dead.headers["dlq_error"]
    assert dead.headers["ce_id"] == "evt-from-the-future"
    assert dead.headers["ce_type"] == "registration.ResidenceDeclared.v9"
    assert await svc.count(grid_month_figures) == 0


@pytest.mark.parametrize(
    "body", [b"not json", b'{"residence_id": "r-1"}'], ids=["not-json", "missing-fields"]
)
async def test_known_event_with_an_invalid_body_is_dead_lettered(
    registration: Registration, body: bytes
) -> None:
    svc = registration
    headers = {
        "ce_specversion": "1.0",
        "ce_id": "evt-broken",
        "ce_type": ResidenceDeclared.ce_type(),
        "ce_source": "/services/registration",
    }

    await svc.runtime.broker.publish(body, TOPIC, headers=headers)

    dead = figures_copy(svc)
    assert "body invalid" in dead.headers["dlq_error"]
    assert dead.body == body
    assert await svc.count(grid_month_figures) == 0


async def test_valid_events_are_not_dead_lettered(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()
    await svc.declare(property_id)
    await svc.drain()

    assert len(svc.relayed_of("PropertyRegistered", "PersonRegistered", "ResidenceDeclared")) == 3
    assert svc.dead_letters == []
