"""Prometheus metrics, one :class:`~prometheus_client.CollectorRegistry` per app.

Other modules record through the functions below; each takes ``app=`` or uses ``current_app``
and does nothing when the app has no observability (a bare app in a unit test). Label values that
come from clients (GraphQL operation names) are bounded so no caller can grow the series without
limit.
"""
from __future__ import annotations

import re
import threading

from flask import Flask, current_app
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Distinct GraphQL operation names kept as labels; later new names count as ``other``.
MAX_OPERATION_NAMES = 200

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_OUTCOME = re.compile(r"[a-z_]{1,32}")


class Metrics:
    """Every metric of one app, registered in its own ``registry``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "vectis_http_requests", "HTTP requests by endpoint, method and status", ["endpoint", "method", "status"], registry=r
        )
        self.http_seconds = Histogram(
            "vectis_http_request_duration_seconds", "HTTP request latency by endpoint", ["endpoint"], registry=r
        )
        self.graphql_requests = Counter(
            "vectis_graphql_requests", "GraphQL operations by operation name and outcome", ["operation", "outcome"], registry=r
        )
        self.graphql_seconds = Histogram(
            "vectis_graphql_request_duration_seconds",
            "GraphQL operation latency by operation name and outcome",
            ["operation", "outcome"],
            registry=r,
        )
        self.unexpected_errors = Counter(
            "vectis_unexpected_errors", "Unexpected exceptions answered INTERNAL_SERVER_ERROR, by where they surfaced",
            ["where"], registry=r
        )
        self.jobs = Counter("vectis_jobs", "Jobs by function, queue and status", ["job", "queue", "status"], registry=r)
        self.definition_revision = Gauge(
            "vectis_definition_revision", "Live revision of each definition", ["kind", "name"], registry=r
        )
        self._operations: set[str] = set()
        self._lock = threading.Lock()

    def operation_label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not _NAME.fullmatch(name):
            return "invalid"
        with self._lock:
            if name in self._operations:
                return name
            if len(self._operations) >= MAX_OPERATION_NAMES:
                return "other"
            self._operations.add(name)
            return name


def get_metrics(app: Flask | None = None) -> Metrics | None:
    """The app's metrics (``current_app`` by default); None without ``observability.init_app``."""
    return (app or current_app).extensions.get("vectis.metrics")


def observe_graphql(operation_name: str | None, seconds: float, outcome: str, *, app: Flask | None = None) -> None:
    """Count one GraphQL operation and its latency.

    ``outcome`` is a short lower_snake word; the GraphQL view uses ``ok``, ``business_error``
    (refusals in the payload), ``auth_error``, ``invalid`` (parse, validation, depth or cost) and
    ``error``. Anything else not matching ``[a-z_]{1,32}`` is recorded as ``other``.
    """
    m = get_metrics(app)
    if m is None:
        return
    operation = m.operation_label(operation_name)
    outcome = outcome if isinstance(outcome, str) and _OUTCOME.fullmatch(outcome) else "other"
    m.graphql_requests.labels(operation, outcome).inc()
    m.graphql_seconds.labels(operation, outcome).observe(seconds)


def observe_job(job: str, queue: str, status: str, *, app: Flask | None = None) -> None:
    """Count one job event; ``status`` is ``enqueued``, ``enqueue_failed``, ``succeeded``, ``failed`` or ``other``."""
    m = get_metrics(app)
    if m is not None:
        m.jobs.labels(job, queue, status).inc()


def set_definition_revision(kind: str, name: str, revision: int, *, app: Flask | None = None) -> None:
    """Record the revision of definition ``kind``/``name`` now live in this process."""
    m = get_metrics(app)
    if m is not None:
        m.definition_revision.labels(kind, name).set(revision)
