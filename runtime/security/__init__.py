"""Platform security: client addresses behind trusted proxies, rate limits, secrets at rest,
CORS and the metrics token.
See ``docs/security.md``."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from runtime.security import ratelimit
from runtime.security.policies import parse_policies
from runtime.security.sealed import check_on_start
from runtime.security.secrets import box_from_settings
from runtime.security.web import init_cors, init_metrics_token

__all__ = ["init_app"]


def init_app(app: Flask, *, probe: bool = True) -> None:
    """Install ProxyFix (only with trusted proxies configured), the rate limiter and the secret box.

    Registered after observability, so a refused request still has its request id and is counted.
    ``probe`` also opens one stored secret: a wrong master key is one line at start-up."""
    settings = app.config["VECTIS"]
    box = app.extensions["vectis.secrets"] = box_from_settings(settings)
    if probe:
        check_on_start(app.extensions["vectis.db"], box)
    init_cors(app, settings.cors_origins, settings.cors_allow_credentials)
    init_metrics_token(app, settings.metrics_token)
    if settings.trusted_proxies:
        # X-Forwarded-For is believed for exactly this many hops, never by default: a client
        # could otherwise pick its own address and dodge every per-IP limit.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    if not settings.rate_limits_enabled:
        return
    metrics = app.extensions.get("vectis.metrics")
    app.extensions["vectis.rate_limiter"] = ratelimit.RateLimiter(
        parse_policies(settings.rate_limits), app.extensions["vectis.jobs"].connection,
        metrics.registry if metrics is not None else None)
    app.before_request(ratelimit.before_request)
    app.after_request(ratelimit.after_request)
