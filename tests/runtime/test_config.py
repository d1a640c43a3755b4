from pathlib import Path

import pytest

from runtime.config import load_settings
from runtime.errors import ConfigError


def test_defaults_are_a_sqlite_file_under_var_and_no_redis(tmp_path):
    settings = load_settings(environ={"VECTIS_VAR_DIR": str(tmp_path)})

    assert settings.database_url == f"sqlite:///{tmp_path / 'vectis.db'}"
    assert settings.redis_url == ""
    assert (tmp_path / "secret_key").read_text() == settings.secret_key


def test_postgres_url_is_pinned_to_psycopg3(tmp_path):
    settings = load_settings(environ={"VECTIS_VAR_DIR": str(tmp_path), "VECTIS_DATABASE_URL": "postgresql://u@h/db"})

    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VECTIS_DATABASE_URL": "mysql://u@h/db"},
         "VECTIS_DATABASE_URL: unsupported scheme 'mysql' in 'mysql://u@h/db'; use sqlite:///path or postgresql://user@host/db"),
        ({"VECTIS_REDIS_URL": "http://x"}, "VECTIS_REDIS_URL: expected redis://host:port/db, got 'http://x'"),
        ({"VECTIS_GRAPHQL_MAX_DEPTH": "deep"}, "VECTIS_GRAPHQL_MAX_DEPTH: expected a positive int, got 'deep'"),
        ({"VECTIS_RUN_SWEEPS_IN_PROCESS": "maybe"}, "VECTIS_RUN_SWEEPS_IN_PROCESS: expected true or false, got 'maybe'"),
    ],
)
def test_bad_settings_give_one_line_naming_the_variable(tmp_path, env, message):
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"VECTIS_VAR_DIR": str(tmp_path), **env})

    assert str(raised.value) == message


def test_unreachable_database_is_one_line(tmp_path):
    from runtime.db import open_database

    database = open_database("postgresql+psycopg://nobody@127.0.0.1:1/nothing")

    with pytest.raises(ConfigError) as raised:
        database.probe()

    message = str(raised.value)
    assert message.startswith("VECTIS_DATABASE_URL: cannot connect to postgresql+psycopg://nobody@127.0.0.1:1/nothing: ")
    assert "\n" not in message
