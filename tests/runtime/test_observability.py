"""Observability: /health, /ready, /metrics, bounded metric labels, request ids and JSON logs.

A bare Flask app with the database, jobs and observability keeps these tests independent of the
rest of the factory.
"""
from __future__ import annotations

import json
import logging
import time
from types import SimpleNamespace

import pytest
import redis
from flask import Flask

from runtime import jobs, observability
from runtime.db import Database, create_db_engine
from runtime.errors import ConfigError
from runtime.observability import health
from runtime.observability import metrics as metrics_module
from runtime.observability.logs import JsonFormatter, RequestIdFilter, configure_logging

DEAD_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/x"


def build_app(settings) -> Flask:
    app = Flask("observability_test")
    app.config.update(VECTIS=settings, TESTING=True)
    app.extensions["vectis.db"] = Database(settings.database_url)
    jobs.init_app(app)
    observability.init_app(app)
    return app


@pytest.fixture
def obs_app(settings):
    app = build_app(settings)
    yield app
    app.extensions["vectis.db"].dispose()


@pytest.fixture
def client(obs_app):
    return obs_app.test_client()


def sample(app: Flask, metric: str, **labels: str) -> float | None:
    return observability.get_metrics(app).registry.get_sample_value(metric, labels)


def test_health_is_ok_and_touches_nothing(client, obs_app):
    obs_app.extensions["vectis.db"].engine = create_db_engine(DEAD_DATABASE)
    response = client.get("/health")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_ready_on_a_working_database(client, redis_url):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok" if redis_url else "not configured"},
        "packs": {"failed": {}, "loaded": {}},
    }


def test_ready_reports_failed_packs_without_failing(client, obs_app):
    obs_app.extensions["vectis.pack_failures"] = {"acme_tax": "extensions/acme_tax/pack.yaml:3:1: name: required"}
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.get_json()["packs"] == {"loaded": {}, "failed": {"acme_tax": "extensions/acme_tax/pack.yaml:3:1: name: required"}}


def test_ready_is_503_naming_a_dead_database(client, obs_app, redis_url):
    obs_app.extensions["vectis.db"].engine = create_db_engine(DEAD_DATABASE)
    response = client.get("/ready")
    body = response.get_json()
    assert response.status_code == 503
    assert (body["status"], body["failed"]) == ("unavailable", ["database"])
    assert body["checks"]["database"].startswith("failed: OperationalError: connection failed: ")
    assert "port 1 failed: Connection refused" in body["checks"]["database"]
    assert body["checks"]["redis"] == ("ok" if redis_url else "not configured")


def test_ready_is_503_naming_an_unreachable_redis(client, obs_app):
    jobs.get_dispatcher(obs_app).connection = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    response = client.get("/ready")
    body = response.get_json()
    assert response.status_code == 503
    assert (body["failed"], body["checks"]["database"]) == (["redis"], "ok")
    assert body["checks"]["redis"].startswith("failed: ConnectionError: Error 111 connecting to 127.0.0.1:1.")


def test_ready_does_not_wait_for_a_hung_probe(obs_app, monkeypatch):
    monkeypatch.setattr(health, "_database_probe", lambda app: lambda: time.sleep(2))
    started = time.monotonic()
    checks = health.run_checks(obs_app, timeout=0.1)
    assert time.monotonic() - started < 1
    assert checks["database"] == "failed: no answer within 0.1s"


def test_metrics_count_http_requests_by_endpoint_and_status(client, obs_app):
    client.get("/health")
    client.get("/health")
    client.get("/no-such-page")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'vectis_http_requests_total{endpoint="observability.health",method="GET",status="200"} 2.0' in text
    assert 'vectis_http_requests_total{endpoint="unmatched",method="GET",status="404"} 1.0' in text
    assert 'vectis_http_request_duration_seconds_count{endpoint="observability.health"} 2.0' in text


def test_graphql_operations_are_counted_with_bounded_labels(obs_app, monkeypatch):
    monkeypatch.setattr(metrics_module, "MAX_OPERATION_NAMES", 2)
    observe = observability.observe_graphql
    observe("placeOrder", 0.05, "ok", app=obs_app)
    observe("placeOrder", 0.20, "business_error", app=obs_app)
    observe(None, 0.01, "ok", app=obs_app)
    observe("cartBulkLookup", 0.01, "ok", app=obs_app)
    observe("aThirdName", 0.01, "ok", app=obs_app)
    observe("not a name", 0.01, "ok", app=obs_app)
    observe("placeOrder", 0.01, "Weird Outcome!", app=obs_app)

    def count(operation: str, outcome: str) -> float | None:
        return sample(obs_app, "vectis_graphql_requests_total", operation=operation, outcome=outcome)

    assert count("placeOrder", "ok") == 1
    assert count("placeOrder", "business_error") == 1
    assert count("placeOrder", "other") == 1
    assert count("anonymous", "ok") == 1
    assert count("cartBulkLookup", "ok") == 1
    assert count("other", "ok") == 1  # the third distinct name, past the limit of two
    assert count("invalid", "ok") == 1
    assert count("aThirdName", "ok") is None
    seconds = sample(obs_app, "vectis_graphql_request_duration_seconds_sum", operation="placeOrder", outcome="business_error")
    assert seconds == pytest.approx(0.20)


def test_definition_revisions_are_a_gauge(obs_app):
    with obs_app.app_context():
        observability.set_definition_revision("order_state_machine", "standard", 3)
        observability.set_definition_revision("order_state_machine", "standard", 4)
    assert sample(obs_app, "vectis_definition_revision", kind="order_state_machine", name="standard") == 4


def test_each_app_has_its_own_metrics(settings):
    first, second = build_app(settings), build_app(settings)
    try:
        first.test_client().get("/health")
        labels = {"endpoint": "observability.health", "method": "GET", "status": "200"}
        assert observability.get_metrics(first).registry.get_sample_value("vectis_http_requests_total", labels) == 1
        assert observability.get_metrics(second).registry.get_sample_value("vectis_http_requests_total", labels) is None
    finally:
        first.extensions["vectis.db"].dispose()
        second.extensions["vectis.db"].dispose()


def test_recording_on_an_app_without_observability_does_nothing():
    bare = Flask("bare")
    observability.observe_job("x.y", "default", "succeeded", app=bare)
    observability.observe_graphql("placeOrder", 0.1, "ok", app=bare)
    assert observability.get_metrics(bare) is None


def test_a_sane_request_id_is_echoed_and_a_bad_one_replaced(client):
    given = client.get("/health", headers={"X-Request-ID": "lb-7f3a.42"})
    bad = client.get("/health", headers={"X-Request-ID": "forged id; level=ERROR"})
    fresh = client.get("/health")
    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    assert len(bad.headers["X-Request-ID"]) == 32 and " " not in bad.headers["X-Request-ID"]
    assert len(fresh.headers["X-Request-ID"]) == 32


def test_json_log_lines_carry_the_request_id_and_extra_fields(obs_app):
    logger = logging.getLogger("vectis.test.json")
    record = None
    with obs_app.test_request_context("/graphql", headers={"X-Request-ID": "req-1"}):
        obs_app.preprocess_request()
        record = logger.makeRecord(
            logger.name, logging.INFO, __file__, 1, "order %s placed", ("O-1",), None, extra={"order_id": 17}
        )
        RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert {k: entry[k] for k in ("level", "logger", "message", "request_id", "order_id")} == {
        "level": "INFO",
        "logger": "vectis.test.json",
        "message": "order O-1 placed",
        "request_id": "req-1",
        "order_id": 17,
    }
    assert entry["time"].endswith("+00:00")


def test_an_unknown_log_format_is_a_config_error():
    app = Flask("bad_logs")
    app.config["VECTIS"] = SimpleNamespace(log_format="xml")
    with pytest.raises(ConfigError) as refused:
        configure_logging(app)
    assert str(refused.value) == "VECTIS_LOG_FORMAT: expected one of text, json, got 'xml'"
