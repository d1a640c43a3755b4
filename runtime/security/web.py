"""Browser and operator access: CORS on ``/graphql`` and the bearer token on ``/metrics``."""
from __future__ import annotations

import hmac

from flask import Flask, Response, request
from flask_cors import CORS

from runtime.errors import ConfigError

#: Request headers a browser client may send cross-origin.
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "X-Api-Key", "X-Channel-Slug", "X-Request-Id"]
#: Response headers a browser client may read: the request id and the rate-limit state.
CORS_EXPOSE_HEADERS = ["X-Request-Id", "RateLimit", "RateLimit-Policy", "Retry-After"]
METRICS_ENDPOINT = "observability.prometheus_metrics"


def init_cors(app: Flask, origins: tuple[str, ...], credentials: bool) -> None:
    """Nothing is allowed cross-origin unless origins are configured; preflights are answered."""
    if not origins:
        return
    if credentials and "*" in origins:
        # Browsers refuse credentials with a wildcard anyway; say so at start-up instead.
        raise ConfigError("VECTIS_CORS_ORIGINS: '*' cannot be used with VECTIS_CORS_ALLOW_CREDENTIALS=true; list the origins")
    CORS(app, resources={r"/graphql*": {"origins": list(origins)}}, supports_credentials=credentials,
         allow_headers=CORS_ALLOW_HEADERS, expose_headers=CORS_EXPOSE_HEADERS, methods=["GET", "POST", "OPTIONS"],
         max_age=600)


def init_metrics_token(app: Flask, token: str) -> None:
    if not token:
        return

    @app.before_request
    def _metrics_token() -> Response | None:
        if request.endpoint != METRICS_ENDPOINT:
            return None
        return metrics_token_refusal(request.headers.get("Authorization", ""), token)


def metrics_token_refusal(authorization: str, token: str) -> Response | None:
    """None when ``authorization`` carries the token (or none is required), else the 401 answer.
    Shared by the app's ``/metrics`` and the separate metrics address."""
    if not token or hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return None
    return Response("metrics: send Authorization: Bearer <VECTIS_METRICS_TOKEN>\n", status=401,
                    mimetype="text/plain", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
