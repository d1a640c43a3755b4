"""Fixtures shared by every suite.

Integration tests (anything using ``app``, ``database`` or ``client``) run on SQLite always and a
second time on PostgreSQL (+ Redis) when ``VECTIS_TEST_DATABASE_URL`` (and
``VECTIS_TEST_REDIS_URL``) are set. Each backend is migrated once per run; tables are emptied
after every test.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from runtime.clock import clock
from runtime.config import load_settings, normalize_database_url

PG_URL = os.environ.get("VECTIS_TEST_DATABASE_URL", "")


def _worker_redis_url(url: str) -> str:
    """Under pytest-xdist each worker gets its own Redis database (tests flush theirs): the
    given number for gw0, one below it for gw1, and so on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    number = (int(parts.path.strip("/") or 0) - int(worker[2:])) % 16
    return urlunsplit(parts._replace(path=f"/{number}"))


REDIS_URL = _worker_redis_url(os.environ.get("VECTIS_TEST_REDIS_URL", ""))
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])


def pytest_report_header(config) -> list[str]:
    lines = [f"vectis backends: {', '.join(BACKENDS)}"]
    lines.append(f"vectis redis: {'yes (with postgres)' if REDIS_URL and PG_URL else 'no (jobs run in-process)'}")
    if not PG_URL:
        lines.append("skipped backend: PostgreSQL (VECTIS_TEST_DATABASE_URL not set)")
    return lines


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory) -> Iterator[str]:
    from runtime.migrate import upgrade

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'vectis.db'}"
        upgrade(url)
        yield url
        return
    admin_url = normalize_database_url(PG_URL)
    name = f"vectis_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url(backend) -> str:
    """The Redis used with the PostgreSQL backend; empty (in-process jobs) with SQLite."""
    return REDIS_URL if backend == "postgres" else ""


def make_settings(database_url: str, redis_url: str, var_dir: Path, **overrides):
    return load_settings(
        environ={},
        database_url=database_url,
        redis_url=redis_url,
        var_dir=var_dir,
        secret_key="test-secret-key-0123456789abcdef-0123456789",
        run_sweeps_in_process=False,
        # Statement counts and direct writes in tests see the database on every request.
        channel_cache_seconds=overrides.pop("channel_cache_seconds", 0),
        **overrides,
    )


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path)


@pytest.fixture
def app(settings):
    from runtime.app import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    _empty_tables(app)
    _flush_redis(settings.redis_url)
    app.extensions["vectis.db"].dispose()


def _empty_tables(app) -> None:
    from runtime.models import all_models

    all_models()
    engine = app.extensions["vectis.db"].engine
    with engine.begin() as conn:
        tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            _empty_postgres_tables(engine, conn, tables)
        else:
            # Self-references (a category's parent) are checked row by row unless deferred.
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'product_search'")).first():
                conn.execute(text("DELETE FROM product_search"))  # the FTS5 index lives outside the models


def _empty_postgres_tables(engine, conn, tables: list[str]) -> None:
    """Delete the rows of the tables a test wrote to and restart the sequences it used.

    TRUNCATE of every table costs about a second per test (a new file per table); most tests
    write to a handful, found with one probe. Children before parents (``tables`` is reversed
    dependency order). A table that refuses DELETE (the append-only audit log's trigger) is
    truncated instead, with what references it."""
    written = conn.execute(text("SELECT " + ", ".join(f'EXISTS (SELECT 1 FROM "{t}")' for t in tables))).one()
    for table in [t for t, has_rows in zip(tables, written) if has_rows]:
        try:
            with conn.begin_nested():
                conn.execute(text(f'DELETE FROM "{table}"'))
        except Exception:
            conn.execute(text(f'TRUNCATE "{table}" CASCADE'))
    conn.execute(text(
        "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
        "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"))


def _flush_redis(url: str) -> None:
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


@pytest.fixture
def database(app):
    return app.extensions["vectis.db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def frozen_clock():
    """The runtime clock, frozen at a fixed instant; restored after the test."""
    from datetime import datetime, timezone

    clock.freeze(datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc))
    yield clock
    clock.unfreeze()


def pytest_terminal_summary(terminalreporter) -> None:
    seen = set()  # reports carry node ids like test_x[sqlite] or test_x[postgres-case]
    for key in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(key, []):
            for backend in BACKENDS:
                if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid or f"-{backend}-" in report.nodeid:
                    seen.add(backend)
    terminalreporter.write_line(f"vectis backends exercised: {', '.join(sorted(seen)) or 'none'}")
    if not PG_URL:
        terminalreporter.write_line("vectis backends skipped: postgres (VECTIS_TEST_DATABASE_URL not set)")
    if not REDIS_URL:
        terminalreporter.write_line("vectis redis skipped: VECTIS_TEST_REDIS_URL not set, jobs ran in-process only")
