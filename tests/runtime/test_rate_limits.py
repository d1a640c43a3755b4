"""Rate limits (issue 18): token buckets per policy and key, 429 with Retry-After and the IETF
headers, RATE_LIMITED over GraphQL, X-Forwarded-For believed only through trusted proxies, and
the burst admitted exactly under concurrency (in-process and on Redis)."""
from __future__ import annotations

import json
import re
import threading

import pytest
import redis

from runtime.app import create_app
from runtime.clock import clock
from runtime.errors import ConfigError
from runtime.security.buckets import MemoryBuckets, RedisBuckets
from runtime.security.policies import DEFAULT_POLICIES, RatePolicy, parse_policies
from tests.conftest import REDIS_URL, _empty_tables, _flush_redis, make_settings
from tests.runtime.helpers import LOGIN, gql, login, make_user

LOGIN_3 = {"name": "login", "burst": 3, "per_second": 0.5, "operations": ["login"]}
CHANNELS = "query { channels { slug } }"


@pytest.fixture
def limited(database_url, redis_url, tmp_path):
    """An app factory: each call builds an app with these policies over the defaults."""
    apps = []

    def build(policies: list[dict], **overrides):
        app = create_app(make_settings(database_url, redis_url, tmp_path, rate_limits=json.dumps(policies), **overrides))
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    if apps:
        _empty_tables(apps[0])
    _flush_redis(redis_url)
    for app in apps:
        app.extensions["vectis.db"].dispose()


def _bad_login(client, **kwargs):
    return gql(client, LOGIN, {"email": "nobody@example.test", "password": "wrong"}, **kwargs)


def test_login_refused_after_its_burst_with_headers_and_code_then_refilled(limited, frozen_clock):
    client = limited([LOGIN_3]).test_client()
    for left in (2, 1, 0):
        response = _bad_login(client)
        assert response.status_code == 200
        assert response.get_json()["data"]["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
        assert response.headers["RateLimit-Policy"] == '"login";q=3;w=6'
        assert response.headers["RateLimit"] == f'"login";r={left};t={(3 - left) * 2}'

    refused = _bad_login(client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert refused.headers["RateLimit"] == '"login";r=0;t=6'
    assert refused.get_json() == {"errors": [{
        "message": "too many requests: limit 'login' allows 3 at once, refilled at 0.5 per second; retry in 2 s",
        "extensions": {"code": "RATE_LIMITED", "policy": "login", "retryAfter": 2}}]}

    clock.advance(seconds=2)  # one token back
    assert _bad_login(client).status_code == 200
    assert _bad_login(client).status_code == 429


def test_a_refused_login_does_not_run(limited, frozen_clock):
    """The refusal comes before execution: a correct password past the burst gets no tokens."""
    app = limited([LOGIN_3])
    make_user(app, "ann@example.test", ["admin"])
    client = app.test_client()
    for _ in range(3):
        _bad_login(client)
    response = gql(client, LOGIN, {"email": "ann@example.test", "password": "correct horse battery"})
    assert response.status_code == 429
    assert "data" not in response.get_json()


def test_every_aliased_root_field_takes_a_token(limited, frozen_clock):
    client = limited([LOGIN_3]).test_client()
    four = "mutation { " + " ".join(
        f'a{i}: login(email: "x{i}@example.test", password: "p") {{ errors {{ code }} }}' for i in range(4)) + " }"
    response = gql(client, four)
    assert response.status_code == 429
    assert response.get_json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # The refused batch took nothing: three single attempts still pass.
    assert [_bad_login(client).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_operations_of_other_names_are_not_counted(limited, frozen_clock):
    client = limited([LOGIN_3]).test_client()
    for _ in range(5):
        assert gql(client, CHANNELS).status_code == 200
    assert _bad_login(client).status_code == 200


def test_admin_sign_in_form_limited_by_ip_and_the_page_itself_is_not(limited, frozen_clock):
    client = limited([{"name": "admin_sign_in", "burst": 2, "per_second": 0.1, "endpoints": ["admin.login_submit"]}]).test_client()
    for _ in range(5):
        page = client.get("/admin/login")
        assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    form = {"email": "nobody@example.test", "password": "wrong", "csrf_token": token}
    assert [client.post("/admin/login", data=form).status_code for _ in range(2)] == [401, 401]
    refused = client.post("/admin/login", data=form)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "10"
    assert refused.headers["RateLimit-Policy"] == '"admin_sign_in";q=2;w=20'
    assert refused.get_data(as_text=True) == (
        "too many requests: limit 'admin_sign_in' allows 2 at once, refilled at 0.1 per second; retry in 10 s\n")


def test_forwarded_for_ignored_unless_proxies_are_trusted(limited, frozen_clock):
    policy = {"name": "graphql", "burst": 1, "per_second": 0.1, "endpoints": ["/graphql"]}
    untrusted = limited([policy]).test_client()
    assert untrusted.post("/graphql", json={"query": CHANNELS}, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    # A client naming another address is still the same client.
    assert untrusted.post("/graphql", json={"query": CHANNELS}, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429

    trusted = limited([policy], trusted_proxies=1).test_client()
    for address in ("203.0.113.1", "203.0.113.2"):
        assert trusted.post("/graphql", json={"query": CHANNELS}, headers={"X-Forwarded-For": address}).status_code == 200
    assert trusted.post("/graphql", json={"query": CHANNELS}, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    # Only the last hop is believed with one proxy: a spoofed first entry changes nothing.
    spoofed = trusted.post("/graphql", json={"query": CHANNELS}, headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.2"})
    assert spoofed.status_code == 429


def test_keyed_by_user_each_signed_in_user_has_a_bucket_and_anonymous_ones_share_the_address(limited, frozen_clock):
    app = limited([{"name": "channels", "burst": 1, "per_second": 0.01, "key": "user", "operations": ["channels"]},
                   {"name": "login", "disabled": True}])
    client = app.test_client()
    make_user(app, "ann@example.test", ["admin"])
    make_user(app, "bob@example.test", ["admin"])
    ann, bob = login(client, "ann@example.test"), login(client, "bob@example.test")
    assert gql(client, CHANNELS, token=ann).status_code == 200
    assert gql(client, CHANNELS, token=ann).status_code == 429
    assert gql(client, CHANNELS, token=bob).status_code == 200
    assert gql(client, CHANNELS).status_code == 200
    assert gql(client, CHANNELS).status_code == 429


def test_the_defaults_protect_login_admin_sign_in_and_bulk_operations():
    policies = {p.name: p for p in parse_policies("")}
    assert policies == {p.name: p for p in DEFAULT_POLICIES}
    assert policies["login"].operations == ("login", "refreshToken")
    assert policies["admin_sign_in"].endpoints == ("admin.login_submit",)
    assert set(policies["bulk"].operations) == {"cartBulkLookup", "bulkAddToCart"}


def test_an_entry_replaces_a_default_disables_one_or_adds_one():
    policies = {p.name: p for p in parse_policies(json.dumps([
        LOGIN_3, {"name": "bulk", "disabled": True},
        {"name": "search", "burst": 5, "per_second": 1, "key": "account", "operations": ["products"]}]))}
    assert set(policies) == {"login", "admin_sign_in", "webhooks", "search"}
    assert policies["login"] == RatePolicy("login", 3, 0.5, "ip", (), ("login",), ("POST",))
    assert policies["search"].key == "account"


@pytest.mark.parametrize("entry, message", [
    ({"name": "x", "burst": 5, "per_second": 0, "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0].per_second: expected a positive refill rate, got 0"),
    ({"name": "x", "burst": 5, "per_second": -1, "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0].per_second: expected a positive refill rate, got -1"),
    ({"name": "x", "burst": 0, "per_second": 1, "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0].burst: expected a positive whole number of requests, got 0"),
    ({"name": "x", "burst": 2.5, "per_second": 1, "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0].burst: expected a positive whole number of requests, got 2.5"),
    ({"name": "x", "burst": 5, "per_second": 1, "key": "session", "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0].key: expected one of ip, user, api_key, account, got 'session'"),
    ({"name": "x", "burst": 5, "per_second": 1},
     "VECTIS_RATE_LIMITS[0]: give endpoints or operations (a policy that covers nothing)"),
    ({"name": "x", "burst": 5, "per_second": 1, "operations": "login"},
     "VECTIS_RATE_LIMITS[0].operations: expected a list of strings, got 'login'"),
    ({"name": "x y", "burst": 5, "per_second": 1, "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0].name: expected a name of letters, digits, '_' or '-', got 'x y'"),
    ({"name": "x", "burst": 5, "rate": 1, "operations": ["login"]},
     "VECTIS_RATE_LIMITS[0]: unknown field(s) rate"),
])
def test_a_bad_policy_is_one_line_naming_the_field(entry, message):
    with pytest.raises(ConfigError) as caught:
        parse_policies(json.dumps([entry]))
    assert str(caught.value) == message


def test_a_bad_policy_stops_start_up_with_that_line(database_url, redis_url, tmp_path):
    settings = make_settings(database_url, redis_url, tmp_path, rate_limits="[{")
    with pytest.raises(ConfigError, match=r"^VECTIS_RATE_LIMITS: not JSON \(Expecting property name"):
        create_app(settings)


def test_rate_limits_can_be_switched_off(limited, frozen_clock):
    client = limited([LOGIN_3], rate_limits_enabled=False).test_client()
    assert [_bad_login(client).status_code for _ in range(5)] == [200] * 5
    assert "RateLimit" not in _bad_login(client).headers


def _race(buckets, burst: int, threads: int) -> int:
    policy = RatePolicy("race", burst, 0.001, operations=("x",))
    barrier = threading.Barrier(threads)
    admitted = []
    now = clock.now().timestamp()

    def one():
        barrier.wait()
        admitted.append(buckets.take(policy, "ip:198.51.100.1", now).allowed)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(admitted)


def test_concurrent_requests_in_process_admit_exactly_the_burst():
    assert _race(MemoryBuckets(), burst=10, threads=64) == 10


@pytest.mark.skipif(not REDIS_URL, reason="needs VECTIS_TEST_REDIS_URL")
def test_concurrent_requests_on_redis_admit_exactly_the_burst():
    """64 threads, each with its own connection as separate processes would have, against a
    burst of 10: the Lua script admits exactly 10."""
    connection = redis.Redis.from_url(REDIS_URL, max_connections=64)
    connection.flushdb()
    try:
        assert _race(RedisBuckets(connection), burst=10, threads=64) == 10
        assert _race(RedisBuckets(connection), burst=10, threads=64) == 0  # nothing refilled meanwhile
    finally:
        connection.flushdb()


def test_redis_down_admits_and_logs_instead_of_failing(app, caplog):
    """A Redis outage must not close the store: the request is admitted, the warning logged."""
    from runtime.security.ratelimit import RateLimiter

    limiter = RateLimiter((RatePolicy("login", 1, 0.01, operations=("login",)),),
                          redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    with app.test_request_context("/graphql", method="POST"):
        decisions = limiter.take([(limiter.policies[0], 1)], None)
    assert decisions == []
    assert "rate limit login not checked: Redis answered ConnectionError" in caplog.text
