"""Secrets at rest (issue 18): provider credentials sealed with Fernet, opened only for the
provider, never in GraphQL answers, logs or error messages; a wrong or missing key is one line
at start-up; `vectis secrets rotate` re-seals in batches and survives SIGKILL halfway."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text
from sqlmodel import select

from runtime.app import create_app
from runtime.channels.models import Channel, ChannelProvider
from runtime.channels.providers import providers, set_provider
from runtime.errors import ConfigError
from runtime.security.sealed import rotate
from runtime.security.secrets import SecretBox
from tests.conftest import make_settings
from tests.runtime.helpers import gql, signed_in

ROOT = Path(__file__).resolve().parents[2]
HTTP_TAX = "http_tax.tax_provider.http"
PLAINTEXT = "sk_live_PLAINTEXT_4f1c9a"
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SET = """mutation($config: JSON) {
  setChannelProvider(channelSlug: "web", slot: "tax_provider", provider: "http_tax.tax_provider.http", config: $config) {
    channelProvider { provider config } errors { code field message } } }"""


def _channels(app, count: int) -> list[int]:
    def work(session):
        made = []
        for i in range(count):
            channel = Channel(slug="web" if i == 0 else f"web{i}", name=f"Web {i}", commerce_mode="HYBRID",
                              default_currency="EUR", currencies=["EUR"], capture_mode="AUTHORIZE_AND_CAPTURE",
                              is_default=i == 0)
            session.add(channel)
            session.flush()
            made.append(channel.id)
        return made

    return app.extensions["vectis.db"].run(work)


def _configure(app, channel_ids: list[int], key: str = PLAINTEXT) -> None:
    def work(session):
        for channel_id in channel_ids:
            set_provider(session, session.get(Channel, channel_id), "tax_provider", HTTP_TAX,
                         {"url": "https://tax.example.test/calc", "api_key": f"{key}-{channel_id}"})

    with app.app_context():
        app.extensions["vectis.db"].run(work)


def _raw_configs(app) -> list[str]:
    with app.extensions["vectis.db"].engine.connect() as conn:
        return [str(c) for c in conn.execute(text("SELECT CAST(config AS TEXT) FROM channel_provider ORDER BY id")).scalars()]


def _app(database_url, redis_url, tmp_path, **keys):
    app = create_app(make_settings(database_url, redis_url, tmp_path, **keys))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path, secrets_master_key=OLD)


def test_a_secret_is_sealed_at_rest_and_opened_only_for_the_provider(app, caplog):
    caplog.set_level(logging.DEBUG)
    [web] = _channels(app, 1)
    _configure(app, [web])

    [raw] = _raw_configs(app)
    assert PLAINTEXT not in raw and '"$secret"' in raw
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        [configured] = providers(session, web, "tax_provider")
    assert configured.config == {"url": "https://tax.example.test/calc", "api_key": f"{PLAINTEXT}-{web}"}
    assert PLAINTEXT not in caplog.text


def test_graphql_never_answers_the_secret_and_an_unchanged_sealed_value_can_be_sent_back(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    [web] = _channels(app, 1)
    token = signed_in(app, client, "admin")
    answer = gql(client, SET, {"config": {"url": "https://tax.example.test/calc", "api_key": PLAINTEXT}}, token=token)
    body = answer.get_data(as_text=True)
    assert answer.get_json()["data"]["setChannelProvider"]["errors"] == []
    assert PLAINTEXT not in body
    sealed = answer.get_json()["data"]["setChannelProvider"]["channelProvider"]["config"]["api_key"]
    assert set(sealed) == {"$secret"}

    # The admin UI sends back what it read with another field changed: the secret stays.
    again = gql(client, SET, {"config": {"url": "https://tax2.example.test/calc", "api_key": sealed}}, token=token)
    assert again.get_json()["data"]["setChannelProvider"]["errors"] == []
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        assert providers(session, web, "tax_provider")[0].config["api_key"] == PLAINTEXT
    assert PLAINTEXT not in caplog.text


def test_an_invalid_secret_is_refused_without_echoing_it_and_nothing_changes(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    _channels(app, 1)
    token = signed_in(app, client, "admin")
    answer = gql(client, SET, {"config": {"url": "https://tax.example.test/calc", "api_key": ["sk_live_LIST_SECRET"]}},
                 token=token)
    assert answer.get_json()["data"]["setChannelProvider"]["errors"] == [{
        "code": "INVALID_PROVIDER_CONFIG", "field": "config", "message": "config: api_key: invalid value (a secret: not shown)"}]
    assert "sk_live_LIST_SECRET" not in answer.get_data(as_text=True) and "sk_live_LIST_SECRET" not in caplog.text
    assert _raw_configs(app) == []


def test_a_sealed_value_from_another_key_is_refused_as_data(app, client):
    _channels(app, 1)
    token = signed_in(app, client, "admin")
    foreign = SecretBox(NEW).seal("x")
    answer = gql(client, SET, {"config": {"url": "https://tax.example.test/calc", "api_key": foreign}}, token=token)
    assert answer.get_json()["data"]["setChannelProvider"]["errors"] == [{
        "code": "INVALID_PROVIDER_CONFIG", "field": "config",
        "message": "config: holds a sealed secret this store's keys cannot open; send the secret itself"}]
    assert _raw_configs(app) == []


def test_a_wrong_key_is_one_line_at_start_up_and_the_old_key_rotating_from_opens(app, database_url, redis_url, tmp_path):
    [web] = _channels(app, 1)
    _configure(app, [web])
    with pytest.raises(ConfigError) as caught:
        _app(database_url, redis_url, tmp_path, secrets_master_key=NEW)
    assert str(caught.value) == (
        f"VECTIS_SECRETS_MASTER_KEY: channel_provider {_provider_id(app)} config.api_key cannot be decrypted with this key"
        " (wrong key? during a rotation put the old key in VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM)")
    rotating = _app(database_url, redis_url, tmp_path, secrets_master_key=NEW, secrets_master_key_rotating_from=OLD)
    rotating.extensions["vectis.db"].dispose()


def _provider_id(app) -> int:
    with app.extensions["vectis.db"].session() as session:
        return session.exec(select(ChannelProvider.id)).one()


@pytest.mark.parametrize("key, message", [
    ("not-a-key", "VECTIS_SECRETS_MASTER_KEY: not a Fernet key (32 bytes in URL-safe base64, 44 characters;"
                  " make one with `vectis secrets generate-key`)"),
    ("", "VECTIS_SECRETS_MASTER_KEY: not set"),
])
def test_a_malformed_or_empty_key_is_one_line_never_echoing_it(key, message):
    with pytest.raises(ConfigError) as caught:
        SecretBox(key)
    assert str(caught.value) == message


def test_rotate_reseals_everything_and_the_new_key_alone_then_opens_all(app):
    ids = _channels(app, 5)
    _configure(app, ids)
    before = _raw_configs(app)
    report = rotate(app.extensions["vectis.db"], SecretBox(NEW, (OLD,)), batch_size=2)
    assert (report.resealed, report.current, report.batches) == (5, 0, 3)
    assert all(a != b for a, b in zip(before, _raw_configs(app)))
    alone = SecretBox(NEW)
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        app.extensions["vectis.secrets"] = alone
        assert [providers(session, i, "tax_provider")[0].config["api_key"] for i in ids] == [f"{PLAINTEXT}-{i}" for i in ids]
    again = rotate(app.extensions["vectis.db"], alone, batch_size=2)
    assert (again.resealed, again.current) == (0, 5)


def test_rotate_without_the_old_key_refuses_and_changes_nothing(app):
    ids = _channels(app, 2)
    _configure(app, ids)
    before = _raw_configs(app)
    with pytest.raises(ConfigError) as caught:
        rotate(app.extensions["vectis.db"], SecretBox(NEW), batch_size=1)
    first, second = sorted(_ids(app))
    assert str(caught.value) == (
        "2 stored secret(s) cannot be opened with VECTIS_SECRETS_MASTER_KEY or VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM"
        f" (channel_provider {first} config.api_key, channel_provider {second} config.api_key):"
        " put the old key in VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM; nothing was changed")
    assert _raw_configs(app) == before


def _ids(app) -> list[int]:
    with app.extensions["vectis.db"].engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM channel_provider")).scalars())


def _under_new(app) -> int:
    new = Fernet(NEW.encode())
    count = 0
    for raw in _raw_configs(app):
        token = raw.split('"$secret"')[1].split('"')[1]
        try:
            new.decrypt(token.encode())
            count += 1
        except InvalidToken:  # still sealed under the old key
            pass
    return count


def _rotate_process(settings, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "VECTIS_DATABASE_URL": settings.database_url, "VECTIS_VAR_DIR": str(settings.var_dir),
           "VECTIS_SECRETS_MASTER_KEY": NEW, "VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM": OLD}
    return subprocess.Popen([sys.executable, "-c", "from runtime.cli import main; main()", "secrets", "rotate", *extra],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_rotation_killed_halfway_leaves_every_secret_readable_and_a_rerun_finishes(app, settings):
    ids = _channels(app, 12)
    _configure(app, ids)
    process = _rotate_process(settings, "--batch-size", "1", "--pause", "0.3")
    deadline = time.monotonic() + 60
    while _under_new(app) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    halfway = _under_new(app)
    assert 3 <= halfway < 12

    both = SecretBox(NEW, (OLD,))
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        app.extensions["vectis.secrets"] = both
        assert [providers(session, i, "tax_provider")[0].config["api_key"] for i in ids] == [f"{PLAINTEXT}-{i}" for i in ids]

    rerun = _rotate_process(settings)
    out, err = rerun.communicate(timeout=60)
    assert rerun.returncode == 0, err
    assert out.splitlines()[-1] == f"re-sealed {12 - halfway} secret(s) in 1 batch(es); {halfway} already under the current key"
    assert _under_new(app) == 12
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        app.extensions["vectis.secrets"] = SecretBox(NEW)
        assert [providers(session, i, "tax_provider")[0].config["api_key"] for i in ids] == [f"{PLAINTEXT}-{i}" for i in ids]
    assert PLAINTEXT not in out + err
