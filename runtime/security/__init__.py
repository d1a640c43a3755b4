"""Platform security: client addresses behind trusted proxies and rate limits. See ``docs/security.md``."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from runtime.security import ratelimit
from runtime.security.policies import parse_policies

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Install ProxyFix (only with trusted proxies configured) and the rate limiter.

    Registered after observability, so a refused request still has its request id and is counted."""
    settings = app.config["VECTIS"]
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
