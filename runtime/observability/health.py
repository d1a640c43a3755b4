"""``/health``, ``/ready`` and ``/metrics``.

``/health`` says the process serves requests and touches nothing else: a load balancer may call
it every second. ``/ready`` probes the database and Redis concurrently, each bounded by
:data:`READY_TIMEOUT`, and answers 503 naming what failed; failed extension packs are reported as
detail without failing readiness (the core still serves).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Flask, Response, abort, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from runtime.observability.metrics import get_metrics

#: Seconds ``/ready`` waits for all probes together before calling the late ones failed.
READY_TIMEOUT = 2.0

blueprint = Blueprint("observability", __name__)

#: Other domains' readiness checks (``app.extensions["vectis.readiness_checks"]``: name → check(app)).
READINESS_CHECKS = "vectis.readiness_checks"


def run_readiness_checks(app: Flask) -> dict[str, str]:
    results = {}
    for name, check in app.extensions.get(READINESS_CHECKS, {}).items():
        try:
            results[name] = check(app)
        except Exception as exc:  # a broken check fails readiness, not /ready itself
            results[name] = f"failed: {_one_line(exc)}"
    return results


def _one_line(exc: BaseException) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip()
    return f"{type(exc).__name__}: {detail.splitlines()[0]}" if detail else type(exc).__name__


def _database_probe(app: Flask) -> Callable[[], None]:
    engine = app.extensions["vectis.db"].engine

    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return probe


def _redis_probe(app: Flask) -> Callable[[], None] | None:
    jobs = app.extensions.get("vectis.jobs")
    connection = getattr(jobs, "connection", None)
    return None if connection is None else connection.ping


def run_checks(app: Flask, timeout: float = READY_TIMEOUT) -> dict[str, str]:
    """``{"database": "ok" | "failed: <why>", "redis": "ok" | "not configured" | "failed: <why>"}``."""
    probes = {"database": _database_probe(app), "redis": _redis_probe(app)}
    checks = {name: "not configured" for name, probe in probes.items() if probe is None}
    # Not a ``with`` block: its exit would wait for a hung probe. Late threads end on their own
    # (the drivers' connect timeouts), their answers unread.
    executor = ThreadPoolExecutor(max_workers=len(probes), thread_name_prefix="vectis-ready")
    try:
        futures = {name: executor.submit(probe) for name, probe in probes.items() if probe is not None}
        for name, future in futures.items():
            try:
                future.result(timeout=timeout)
                checks[name] = "ok"
            except FutureTimeout:
                checks[name] = f"failed: no answer within {timeout:g}s"
            except Exception as exc:
                checks[name] = f"failed: {_one_line(exc)}"
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    return checks


@blueprint.get("/health")
def health():
    return jsonify(status="ok")


@blueprint.get("/ready")
def ready():
    checks = run_checks(current_app._get_current_object())
    checks.update(run_readiness_checks(current_app._get_current_object()))  # domains' own (payments)
    failed = sorted(name for name, result in checks.items() if result.startswith("failed"))
    body = {
        "status": "unavailable" if failed else "ready",
        "checks": checks,
        "packs": {
            "loaded": {name: pack.manifest.version for name, pack in current_app.extensions.get("vectis.packs", {}).items()},
            "failed": dict(current_app.extensions.get("vectis.pack_failures", {})),
        },
    }
    if failed:
        body["failed"] = failed
    return jsonify(body), 503 if failed else 200


@blueprint.get("/metrics")
def prometheus_metrics():
    if current_app.config["VECTIS"].metrics_address:
        abort(404)  # served on VECTIS_METRICS_ADDRESS only (runtime/observability/address.py)
    return Response(generate_latest(get_metrics().registry), mimetype=CONTENT_TYPE_LATEST)
