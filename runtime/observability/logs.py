"""Structured logs: one JSON object per line (``VECTIS_LOG_FORMAT=json``), each with its request id.

The request id is the caller's ``X-Request-ID`` when it is a sane token, else a fresh one; it is
echoed in the response header so a client, a proxy and our logs name the same request.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

from runtime.errors import ConfigError

#: Log formats ``VECTIS_LOG_FORMAT`` accepts.
LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def assign_request_id() -> None:
    """``before_request`` hook: adopt the caller's request id or make one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``None`` outside a request) so formatters can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", …extra fields, "exception"}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app: Flask) -> None:
    """Give the root logger's handlers the request id, and JSON lines when asked for."""
    log_format = getattr(app.config["VECTIS"], "log_format", "text") or "text"
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"VECTIS_LOG_FORMAT: expected one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if log_format == "json" and not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(JsonFormatter())
