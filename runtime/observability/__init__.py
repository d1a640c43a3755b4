"""Observability: ``/health``, ``/ready``, ``/metrics`` and structured logs. See ``docs/operations.md``.

Other modules record metrics through :func:`observe_graphql`, :func:`observe_job` and
:func:`set_definition_revision`; each takes ``app=`` or uses ``current_app``.
"""
from __future__ import annotations

import time

from flask import Flask, g, request

from runtime.observability.faults import report_unexpected
from runtime.observability.health import blueprint, run_checks
from runtime.observability.logs import REQUEST_ID_HEADER, JsonFormatter, assign_request_id, configure_logging
from runtime.observability.metrics import Metrics, get_metrics, observe_graphql, observe_job, set_definition_revision

__all__ = [
    "JsonFormatter", "Metrics", "get_metrics", "init_app", "observe_graphql", "observe_job",
    "report_unexpected", "run_checks", "set_definition_revision",
]


def init_app(app: Flask) -> Metrics:
    """Register the endpoints, per-request metrics and request ids; keep metrics in ``app.extensions``."""
    app.extensions["vectis.metrics"] = m = Metrics()
    app.register_blueprint(blueprint)
    configure_logging(app)

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        assign_request_id()

    @app.after_request
    def _finish(response):
        endpoint = request.endpoint or "unmatched"
        m.http_requests.labels(endpoint, request.method, str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            m.http_seconds.labels(endpoint).observe(time.perf_counter() - started)
        if g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response

    return m
