"""The one place an unexpected exception becomes ``INTERNAL_SERVER_ERROR``.

It is logged once, with its traceback and the request id (:class:`logs.RequestIdFilter` adds it
to every record; the JSON format prints it), and counted in ``vectis_unexpected_errors_total``
by where it surfaced, so operators see faults on ``/metrics`` without reading logs. The caller
gets the code, a fixed message and the request id to quote; never the exception's text.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from runtime.observability.logs import current_request_id
from runtime.observability.metrics import get_metrics

log = logging.getLogger("runtime.errors.unexpected")

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def report_unexpected(error: BaseException, where: str, *, app: Flask | None = None) -> dict[str, Any]:
    """Log and count ``error``; return the GraphQL error entry the client sees.

    ``where`` is a short lower_snake word (``resolver``, ``request``) used as the metric label."""
    request_id = current_request_id()
    log.error("unexpected %s in %s (request %s)", type(error).__name__, where, request_id,
              exc_info=(type(error), error, error.__traceback__), extra={"where": where})
    metrics = get_metrics(app)
    if metrics is not None:
        metrics.unexpected_errors.labels(where).inc()
    extensions: dict[str, Any] = {"code": INTERNAL_SERVER_ERROR}
    if request_id:
        extensions["requestId"] = request_id
    return {"message": "internal error", "extensions": extensions}
