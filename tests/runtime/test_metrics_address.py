"""/metrics on a separate address (VECTIS_METRICS_ADDRESS) and behind the bearer token (issue 18)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from runtime.app import create_app
from runtime.config import ROOT, load_settings
from runtime.errors import ConfigError
from runtime.observability.address import start_metrics_server
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def build(database_url, redis_url, tmp_path):
    made = []

    def make(**overrides):
        app = create_app(make_settings(database_url, redis_url, tmp_path, **overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["vectis.db"].dispose()


def test_with_an_address_the_app_does_not_serve_metrics_and_the_address_does(build):
    port = free_port()
    app = build(metrics_address=f"127.0.0.1:{port}")
    client = app.test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 404

    server = start_metrics_server(app)
    try:
        served = httpx.get(f"http://127.0.0.1:{port}/metrics")
        other = httpx.get(f"http://127.0.0.1:{port}/graphql")
        posted = httpx.post(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.shutdown()
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/plain")
    # the registry is the app's own: its request to /health above is counted there
    assert 'vectis_http_requests_total{endpoint="observability.health",method="GET",status="200"} 1.0' in served.text
    assert (other.status_code, posted.status_code) == (404, 405)


def test_the_token_also_guards_the_separate_address(build):
    port = free_port()
    app = build(metrics_address=f"127.0.0.1:{port}", metrics_token="m-0123456789")
    server = start_metrics_server(app)
    try:
        refused = httpx.get(f"http://127.0.0.1:{port}/metrics")
        wrong = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer nope"})
        served = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer m-0123456789"})
    finally:
        server.shutdown()
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, 'Bearer realm="metrics"')
    assert refused.text == "metrics: send Authorization: Bearer <VECTIS_METRICS_TOKEN>\n"
    assert wrong.status_code == 401
    assert served.status_code == 200 and "vectis_http_requests_total" in served.text


def test_without_an_address_nothing_else_listens(build):
    app = build()
    assert start_metrics_server(app) is None
    assert app.test_client().get("/metrics").status_code == 200


def test_a_port_in_use_is_one_line(build):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        app = build(metrics_address=f"127.0.0.1:{port}")
        with pytest.raises(ConfigError) as refused:
            start_metrics_server(app)
    assert str(refused.value).startswith(f"VECTIS_METRICS_ADDRESS: cannot listen on 127.0.0.1:{port}: ")
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("raw", ["9100", "localhost", "127.0.0.1:0", "127.0.0.1:70000", ":9100", "host:port"])
def test_a_malformed_address_is_refused_at_start_up(raw, tmp_path):
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"VECTIS_METRICS_ADDRESS": raw}, var_dir=tmp_path)
    assert str(refused.value) == f"VECTIS_METRICS_ADDRESS: expected host:port like 127.0.0.1:9100, got {raw!r}"


def test_addresses_that_are_accepted(tmp_path):
    for raw in ("127.0.0.1:9100", "0.0.0.0:9100", "[::1]:9100", "metrics.internal:9100"):
        assert load_settings(environ={"VECTIS_METRICS_ADDRESS": raw}, var_dir=tmp_path).metrics_address == raw


def test_vectis_serve_listens_on_the_metrics_address(database_url, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("one process start is enough: the backend does not change where metrics listen")
    app_port, metrics_port = free_port(), free_port()
    env = {**os.environ, "VECTIS_DATABASE_URL": database_url, "VECTIS_VAR_DIR": str(tmp_path),
           "VECTIS_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}", "VECTIS_RUN_SWEEPS_IN_PROCESS": "false"}
    env.pop("VECTIS_REDIS_URL", None)
    vectis = Path(sys.executable).with_name("vectis")
    process = subprocess.Popen([str(vectis), "serve", "--port", str(app_port)], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{app_port}/health", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"vectis serve did not start: {process.stdout.read()}")
                time.sleep(0.2)
        on_app = httpx.get(f"http://127.0.0.1:{app_port}/metrics")
        on_address = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert health.status_code == 200
    assert on_app.status_code == 404
    assert on_address.status_code == 200 and "vectis_http_requests_total" in on_address.text
    assert f"metrics on http://127.0.0.1:{metrics_port}/metrics" in output
