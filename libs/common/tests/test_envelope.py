"""CloudEvents binary-mode envelope: what goes into Kafka headers comes back out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from common.envelope import (
    CONTENT_TYPE,
    MAX_ID_LENGTH,
    SPEC_VERSION,
    Envelope,
    EnvelopeError,
    new_traceparent,
)


def sample() -> Envelope:
    return Envelope(type="registration.ResidenceDeclared.v1", source="/tests", subject="p1")


def _valid_headers() -> dict[str, str]:
    return {
        "ce_specversion": "1.0",
        "ce_id": "evt-1",
        "ce_type": "registration.ResidenceDeclared.v1",
        "ce_source": "/services/registration",
        "ce_time": "2026-03-04T10:00:00+00:00",
        "ce_subject": "prop-1",
    }


def test_headers_round_trip_to_an_equal_envelope() -> None:
    original = Envelope(
        type="registration.ResidenceDeclared.v1",
        source="/services/registration",
        subject="prop-1",
        id="evt-1",
        time=datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
        correlation_id="corr-1",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )

    assert Envelope.from_headers(original.headers()) == original


def test_headers_are_bytes_in_cloudevents_binary_mode() -> None:
    headers = dict(Envelope(type="ctx.Thing.v1", source="/s", subject="k").headers())

    assert all(isinstance(v, bytes) for v in headers.values())
    assert headers["ce_specversion"] == SPEC_VERSION.encode()
    assert headers["content-type"] == CONTENT_TYPE.encode()
    assert headers["ce_subject"] == b"k"


def test_correlation_id_defaults_to_the_event_id_and_a_traceparent_is_generated() -> None:
    envelope = Envelope(type="ctx.Thing.v1", source="/s", subject="k", id="evt-9")
    headers = dict(envelope.headers())

    assert headers["ce_correlationid"] == b"evt-9"
    assert headers["traceparent"].decode().startswith("00-")
    assert len(headers["traceparent"].decode().split("-")) == 4


def test_new_traceparent_is_w3c_version_00_and_unique() -> None:
    first, second = new_traceparent(), new_traceparent()

    version, trace_id, span_id, flags = first.split("-")
    assert (version, len(trace_id), len(span_id), flags) == ("00", 32, 16, "01")
    assert first != second


def test_from_headers_accepts_a_mapping_of_str_or_bytes() -> None:
    as_str = Envelope.from_headers(_valid_headers())
    as_bytes = Envelope.from_headers({k: v.encode() for k, v in _valid_headers().items()})

    assert as_str == as_bytes
    assert as_str.time == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert as_str.subject == "prop-1"


@pytest.mark.parametrize("missing", ["ce_id", "ce_type", "ce_source", "ce_specversion"])
def test_missing_required_header_is_an_envelope_error_naming_it(missing: str) -> None:
    headers = _valid_headers()
    del headers[missing]

    with pytest.raises(EnvelopeError, match=missing):
        Envelope.from_headers(headers)


def test_empty_required_header_counts_as_missing() -> None:
    with pytest.raises(EnvelopeError, match="ce_id"):
        Envelope.from_headers({**_valid_headers(), "ce_id": ""})


def test_no_headers_at_all_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError, match="missing CloudEvents headers"):
        Envelope.from_headers([])


def test_unsupported_specversion_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError, match="ce_specversion"):
        Envelope.from_headers({**_valid_headers(), "ce_specversion": "0.3"})


def test_unparseable_time_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError, match="ce_time"):
        Envelope.from_headers({**_valid_headers(), "ce_time": "yesterday"})


def test_envelope_error_is_a_value_error() -> None:
    assert issubclass(EnvelopeError, ValueError)


def test_a_ce_header_that_is_not_utf8_is_an_envelope_error() -> None:
    headers = [(k, b"\xff\xfe" if k == "ce_source" else v) for k, v in sample().headers()]
    with pytest.raises(EnvelopeError, match="not UTF-8"):
        Envelope.from_headers(headers)


def test_other_headers_are_not_decoded_so_a_binary_one_does_no_harm() -> None:
    headers = sample().headers()
    assert Envelope.from_headers([*headers, ("x-vendor", b"\x80")]) == Envelope.from_headers(
        headers
    )


def test_a_ce_id_longer_than_the_inbox_keeps_is_refused() -> None:
    Envelope.from_headers(replace(sample(), id="x" * MAX_ID_LENGTH).headers())
    with pytest.raises(EnvelopeError, match="longer than"):
        Envelope.from_headers(replace(sample(), id="x" * (MAX_ID_LENGTH + 1)).headers())
