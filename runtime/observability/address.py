"""``/metrics`` on its own address (``VECTIS_METRICS_ADDRESS``), apart from the public one.

With the setting, the app answers 404 on ``/metrics`` and :func:`start_metrics_server` (called by
``vectis serve`` and ``vectis demo``) listens on the address in a thread of the same process, so
it reports that process's registry. ``VECTIS_METRICS_TOKEN`` still applies there. Under another
WSGI server (gunicorn with several workers, each its own registry) use the token instead.
"""
from __future__ import annotations

import logging
import threading

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from runtime.config import parse_address
from runtime.errors import ConfigError
from runtime.observability.metrics import get_metrics
from runtime.security.web import metrics_token_refusal

log = logging.getLogger(__name__)
PATH = "/metrics"


def metrics_wsgi_app(registry: CollectorRegistry, token: str = ""):
    """A WSGI app answering ``GET /metrics`` (behind ``token`` when given) and 404 elsewhere."""

    @Request.application
    def application(request: Request) -> Response:
        if request.path != PATH:
            return Response("not found\n", status=404, mimetype="text/plain")
        if request.method not in ("GET", "HEAD"):
            return Response("method not allowed\n", status=405, mimetype="text/plain", headers={"Allow": "GET, HEAD"})
        refused = metrics_token_refusal(request.headers.get("Authorization", ""), token)
        if refused is not None:
            return refused
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return application


def start_metrics_server(app: Flask) -> BaseWSGIServer | None:
    """Serve ``app``'s metrics on ``VECTIS_METRICS_ADDRESS`` in a daemon thread; None when unset.
    A port that cannot be bound is one line (:class:`ConfigError`), as at any start-up."""
    settings = app.config["VECTIS"]
    if not settings.metrics_address:
        return None
    host, port = parse_address(settings.metrics_address)
    try:
        server = make_server(host, port, metrics_wsgi_app(get_metrics(app).registry, settings.metrics_token),
                             threaded=True)
    except (OSError, SystemExit) as exc:  # werkzeug exits on a port in use
        raise ConfigError(f"VECTIS_METRICS_ADDRESS: cannot listen on {settings.metrics_address}: "
                          f"{getattr(exc, 'strerror', None) or 'address in use or not available'}") from None
    threading.Thread(target=server.serve_forever, name="vectis-metrics", daemon=True).start()
    log.info("metrics on http://%s%s", settings.metrics_address, PATH)
    return server
