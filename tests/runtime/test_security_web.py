"""CORS, the metrics token, the SDL endpoint and command, `vectis --version` (issue 18)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_schema as parse_sdl

from runtime.app import create_app
from runtime.config import load_settings
from runtime.errors import ConfigError
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
SHOP = "https://shop.example.com"


@pytest.fixture
def build(database_url, redis_url, tmp_path):
    apps = []

    def make(**overrides):
        app = create_app(make_settings(database_url, redis_url, tmp_path, **overrides))
        app.config["TESTING"] = True
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["vectis.db"].dispose()


def _preflight(client, origin: str):
    return client.options("/graphql", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "authorization, content-type"})


def test_no_origin_is_allowed_by_default(build):
    client = build()
    assert "Access-Control-Allow-Origin" not in _preflight(client, SHOP).headers
    answer = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_configured_origin_gets_its_preflight_answered_without_credentials(build):
    client = build(cors_origins=(SHOP,))
    preflight = _preflight(client, SHOP)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert set(preflight.headers["Access-Control-Allow-Headers"].split(", ")) == {"authorization", "content-type"}
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    answer = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": SHOP})
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "RateLimit" in answer.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in _preflight(client, "https://evil.example.net").headers


def test_credentials_only_when_allowed_and_never_with_a_wildcard(build):
    client = build(cors_origins=(SHOP,), cors_allow_credentials=True)
    assert _preflight(client, SHOP).headers["Access-Control-Allow-Credentials"] == "true"
    with pytest.raises(ConfigError) as caught:
        build(cors_origins=("*",), cors_allow_credentials=True)
    assert str(caught.value) == ("VECTIS_CORS_ORIGINS: '*' cannot be used with VECTIS_CORS_ALLOW_CREDENTIALS=true;"
                                 " list the origins")


def test_a_malformed_origin_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings({"VECTIS_CORS_ORIGINS": "https://shop.example.com, shop.example.com", "VECTIS_VAR_DIR": str(tmp_path)})
    assert str(caught.value) == "VECTIS_CORS_ORIGINS: expected origins like https://shop.example.com, got 'shop.example.com'"
    assert load_settings({"VECTIS_CORS_ORIGINS": "https://a.example/, http://b.example:8080",
                          "VECTIS_VAR_DIR": str(tmp_path)}).cors_origins == ("https://a.example", "http://b.example:8080")


def test_metrics_open_by_default_and_behind_the_token_when_set(build):
    assert build().get("/metrics").status_code == 200
    client = build(metrics_token="m-0123456789")
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert "vectis_" not in refused.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    served = client.get("/metrics", headers={"Authorization": "Bearer m-0123456789"})
    assert served.status_code == 200 and "vectis_http_requests" in served.get_data(as_text=True)
    assert client.get("/health").status_code == 200


def test_the_schema_is_served_as_sdl_that_parses_to_the_served_schema(app, client):
    answer = client.get("/graphql/schema.graphql")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    parsed = parse_sdl(answer.get_data(as_text=True))
    served = app.extensions["vectis.graphql_schema"]
    assert set(parsed.query_type.fields) == set(served.query_type.fields)
    assert set(parsed.mutation_type.fields) == set(served.mutation_type.fields)
    assert "setChannelProvider" in parsed.mutation_type.fields


def _vectis(*args: str, env: dict | None = None, tmp_path: Path | None = None):
    import os

    environment = {**os.environ, "VECTIS_VAR_DIR": str(tmp_path), **(env or {})}
    return subprocess.run([sys.executable, "-c", "from runtime.cli import main; main()", *args], env=environment,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_vectis_version_and_schema_print(app, client, settings, tmp_path):
    from importlib.metadata import version

    assert _vectis("--version", tmp_path=tmp_path).stdout == f"vectis {version('vectis')}\n"
    out = tmp_path / "schema.graphql"
    result = _vectis("schema", "print", "-o", str(out), env={"VECTIS_DATABASE_URL": settings.database_url},
                     tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == client.get("/graphql/schema.graphql").get_data(as_text=True)
