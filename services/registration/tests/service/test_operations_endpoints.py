"""Operational endpoints: health, readiness, metrics and the API documents."""

from __future__ import annotations

from _registration_helpers import Registration


async def test_healthz_answers_ok(registration: Registration) -> None:
    response = await registration.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "registration"}


async def test_readyz_reports_database_and_broker_ready(registration: Registration) -> None:
    response = await registration.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok", "broker": "ok"}}


async def test_metrics_expose_the_relay_and_consumer_counters(registration: Registration) -> None:
    svc = registration
    property_id = await svc.new_property()
    await svc.declare(property_id)
    await svc.drain()

    response = await svc.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "events_published_total" in response.text
    assert 'events_consumed_total{consumer="registration.figures",outcome="applied"}' in (
        response.text
    )
    assert "http_request_seconds_bucket" in response.text


async def test_asyncapi_document_describes_the_registration_events_channel(
    registration: Registration,
) -> None:
    response = await registration.client.get("/asyncapi.json")

    assert response.status_code == 200
    doc = response.json()
    assert doc["asyncapi"].startswith("3.")
    assert doc["channels"]["registration.events"]["address"] == "registration.events"
    assert "registration.figures" in doc["channels"]


async def test_openapi_document_lists_the_routes(registration: Registration) -> None:
    response = await registration.client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/properties",
        "/properties/{property_id}",
        "/properties/{property_id}/residences",
        "/persons/{person_ref}",
        "/figures/grids/{grid_id}",
        "/healthz",
        "/readyz",
        "/metrics",
        "/asyncapi.json",
    } <= paths.keys()
    assert "post" in paths["/properties/{property_id}/residences"]


async def test_every_response_carries_the_correlation_id(registration: Registration) -> None:
    given = await registration.client.get("/healthz", headers={"X-Correlation-ID": "abc-123"})
    generated = await registration.client.get("/healthz")

    assert given.headers["X-Correlation-ID"] == "abc-123"
    assert len(generated.headers["X-Correlation-ID"]) == 36
