"""Prometheus metrics every service exports at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter("events_published_total", "Events relayed from the outbox to Kafka")
OUTBOX_LAG = Gauge(
    "outbox_lag_seconds", "Age of the oldest event in the last relayed batch (0 when idle)"
)
EVENTS_CONSUMED = Counter(
    "events_consumed_total",
    "Events handled by consumers, by outcome (applied, duplicate, ignored, dead_lettered)",
    ["consumer", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "event_handler_seconds",
    "Time to apply one event, database commit included",
    ["consumer"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DEAD_LETTERS = Counter("dead_letters_total", "Messages sent to a dead-letter topic", ["topic"])
CONSUMER_RETRIES = Counter("consumer_retries_total", "Handler retries after an error", ["topic"])
TIMERS_FIRED = Counter("timers_fired_total", "Durable timers fired", ["kind"])
COMMAND_CONFLICTS = Counter(
    "command_conflicts_total",
    "HTTP commands rolled back and run again after losing a race with a concurrent one",
)
HTTP_SECONDS = Histogram(
    "http_request_seconds",
    "HTTP request latency",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
