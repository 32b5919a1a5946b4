"""Access-control entries are pseudonymised; the per-process cache keeps no identity number."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from _registration_helpers import id_number

from common.clock import FakeClock
from common.errors import DomainError
from common.pii import PiiCipher, mask_id_number
from common.publisher import Publisher
from registration.app.reconciliation import AccessEntryIn, ReconciliationService
from registration.domain.reconciliation import LeadPolicy

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
NUMBER = "11010519491231002X"
POLICY = LeadPolicy(
    min_sightings=3,
    window_days=7,
    min_distinct_days=2,
    timezone=timezone(timedelta(hours=8)),
    version="test",
    source="test",
)


def service(cache_size: int = 50_000) -> ReconciliationService:
    declarations: Any = None  # not used by to_entry
    return ReconciliationService(
        publisher=Publisher.of("/test", FakeClock(NOW)),
        clock=FakeClock(NOW),
        cipher=PiiCipher("e" * 32, "h" * 32),
        policy=POLICY,
        declarations=declarations,
        identity_cache_size=cache_size,
    )


def entry(number: str = NUMBER, minutes: int = 0) -> AccessEntryIn:
    return AccessEntryIn(
        device_id="door-1",
        direction="in",
        property_id="P1",
        id_number=number,
        at=NOW - timedelta(minutes=minutes),
    )


def test_entries_carry_the_keyed_hash_and_masked_number_and_the_cache_no_number() -> None:
    svc = service()

    first, again = svc.to_entry(entry(), NOW), svc.to_entry(entry(minutes=5), NOW)

    assert first.subject_hash == again.subject_hash == svc.cipher.keyed_hash(NUMBER)
    assert first.id_number_masked == mask_id_number(NUMBER)
    state = pickle.dumps({k: v for k, v in vars(svc).items() if k.startswith("_cache")})
    assert NUMBER.encode() not in state and NUMBER[:17].encode() not in state


def test_an_invalid_number_is_refused_every_time_and_not_cached() -> None:
    svc = service()

    for _ in range(2):
        with pytest.raises(DomainError):
            svc.to_entry(entry("110105194912310021"), NOW)


def test_the_cache_is_bounded() -> None:
    svc = service(cache_size=2)
    for first17 in ("44030619900101123", "51010719850615002", "11010519770312001"):
        svc.to_entry(entry(id_number(first17)), NOW)

    assert len(svc._cache) == 1  # cleared when it held 2, then the third number went in
