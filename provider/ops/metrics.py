"""Prometheus metrics. With several workers, each process writes to PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "provider_http_requests_total",
    "HTTP requests by route and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "provider_http_request_duration_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
AUTH_OPERATIONS = Counter(
    "provider_auth_operations_total",
    "Authentication operations by outcome",
    ["operation", "outcome"],
)
RATE_LIMIT_HITS = Counter("provider_rate_limit_hits_total", "Requests refused with 429", ["scope"])
CACHE_FALLBACKS = Counter(
    "provider_cache_fallbacks_total", "Cache operations served from memory", ["operation"]
)
# Committed audit rows by event type: lockout and reuse-detection spikes are alerted on from it.
AUDIT_EVENTS = Counter(
    "provider_audit_events_total",
    "Security events written to the audit trail",
    ["event", "outcome"],
)
EVENTS_DROPPED = Counter("provider_events_dropped_total", "Pub/sub events that could not be sent")
MAIL_SENT = Counter(
    "provider_mail_sent_total", "Mails handed to SMTP or written to the outbox", ["kind"]
)
MAIL_FAILURES = Counter(
    "provider_mail_failures_total", "Mails given up on after every delivery attempt", ["kind"]
)


def render(active_sessions: int) -> tuple[bytes, str]:
    """The exposition text; `active_sessions` is read from the database at scrape time."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    gauge = (
        "# HELP provider_active_sessions Sessions neither revoked nor expired\n"
        "# TYPE provider_active_sessions gauge\n"
        f"provider_active_sessions {active_sessions}\n"
    )
    return body + gauge.encode(), CONTENT_TYPE_LATEST
