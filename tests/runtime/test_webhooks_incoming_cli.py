"""`vectis webhooks`: adding (rotating to), listing and retiring a pack's incoming webhook secrets;
and VECTIS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS, the outgoing side's setting (issue 18)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from runtime.app import create_app
from runtime.auth.permissions import Actor
from runtime.cli import cli
from runtime.config import load_settings
from runtime.errors import BusinessErrors, ConfigError
from runtime.webhooks.subscriptions import subscribe
from runtime.webhooks.signing import generate_secret
from tests.conftest import make_settings
from tests.runtime.test_webhooks_incoming import event, send

KEY = Fernet.generate_key().decode()


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path, secrets_master_key=KEY)


@pytest.fixture
def run(app, database_url, tmp_path, monkeypatch):
    """``vectis …`` against the test database, with the app fixture's master key."""
    monkeypatch.setenv("VECTIS_DATABASE_URL", database_url)
    monkeypatch.setenv("VECTIS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("VECTIS_SECRETS_MASTER_KEY", KEY)
    monkeypatch.delenv("VECTIS_REDIS_URL", raising=False)
    runner = CliRunner()
    return lambda *args, stdin=None: runner.invoke(cli, list(args), input=stdin)


def test_add_secret_prints_a_new_secret_once_and_webhooks_verify_with_it(app, run, frozen_clock):
    added = run("webhooks", "add-secret", "mock_gateway")
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip()
    assert secret.startswith("whsec_") and added.stderr == (
        "secret 1 added for mock_gateway; earlier secrets accepted for 86400 more second(s)\n")
    answer = send(app.test_client(), [secret], event("payout.paid", "a"))
    assert answer.get_json() == {"status": "processed", "webhookId": "msg_1", "outcome": []}


def test_rotation_and_retirement_as_the_operator_sees_them(app, run, frozen_clock):
    first = run("webhooks", "add-secret", "mock_gateway").stdout.strip()
    given = generate_secret()
    second = run("webhooks", "add-secret", "mock_gateway", "--stdin", "--overlap", "60", stdin=given + "\n")
    assert (second.exit_code, second.stdout) == (0, "")  # a given secret is not echoed
    listed = run("webhooks", "secrets", "mock_gateway").output
    assert listed == ("1\tadded 2026-01-15T12:00:00+00:00\tactive until 2026-01-15T12:01:00+00:00\n"
                      "2\tadded 2026-01-15T12:00:00+00:00\tactive\n")
    assert first not in listed and given not in listed
    client = app.test_client()
    assert send(client, [first], event("payout.paid", "a"), msg_id="m1").status_code == 200
    assert send(client, [given], event("payout.paid", "a"), msg_id="m2").status_code == 200

    retired = run("webhooks", "retire-secret", "mock_gateway", "1")
    assert (retired.exit_code, retired.output) == (0, "secret 1 of mock_gateway retired\n")
    assert send(client, [first], event("payout.paid", "a"), msg_id="m3").status_code == 400
    assert run("webhooks", "secrets", "mock_gateway").output.splitlines()[0] == (
        "1\tadded 2026-01-15T12:00:00+00:00\tretired 2026-01-15T12:00:00+00:00")


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("add-secret", "nope"), None, "PACK: 'nope' does not receive webhooks; packs that do: mock_gateway"),
    (("add-secret", "mock_gateway", "--stdin"), "sk_live_123\n",
     "secret: expected whsec_ followed by base64 of 24 to 64 bytes, as the gateway shows it"),
    (("add-secret", "mock_gateway", "--overlap", "-1"), None, "--overlap: expected 0 to 604800 seconds, got -1"),
    (("retire-secret", "mock_gateway", "99"), None, "SECRET_ID: pack 'mock_gateway' has no webhook secret 99"),
])
def test_refusals_are_one_line_and_change_nothing(app, run, args, stdin, message):
    result = run("webhooks", *args, stdin=stdin)
    assert isinstance(result.exception, ConfigError) and str(result.exception) == message
    assert "sk_live_123" not in str(result.exception)
    assert run("webhooks", "secrets", "mock_gateway").output == ""


def test_private_webhook_addresses_are_a_vectis_setting(tmp_path):
    assert load_settings(environ={}, var_dir=tmp_path).webhooks_allow_private_networks is False
    allowed = load_settings(environ={"VECTIS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true"}, var_dir=tmp_path)
    assert allowed.webhooks_allow_private_networks is True
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={"VECTIS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "maybe"}, var_dir=tmp_path)
    assert str(refused.value) == "VECTIS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: expected true or false, got 'maybe'"


def test_the_setting_decides_whether_a_private_url_may_be_subscribed(database_url, redis_url, tmp_path):
    actor = Actor(user_id=1, email="ops@example.test")
    for allowed in (False, True):
        app = create_app(make_settings(database_url, redis_url, tmp_path, secrets_master_key=KEY,
                                       webhooks_allow_private_networks=allowed))
        try:
            with app.app_context():
                work = app.extensions["vectis.db"].run
                if allowed:
                    row, _secret = work(lambda s: subscribe(s, actor, "cart.created", "http://127.0.0.1:9/hook"))
                    assert row.url == "http://127.0.0.1:9/hook"
                    work(lambda s: s.delete(s.get(type(row), row.id)))
                else:
                    with pytest.raises(BusinessErrors) as refused:
                        work(lambda s: subscribe(s, actor, "cart.created", "http://127.0.0.1:9/hook"))
                    assert [e.code for e in refused.value.errors] == ["DISALLOWED_ADDRESS"]
        finally:
            app.extensions["vectis.db"].dispose()
