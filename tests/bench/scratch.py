"""What a benchmark borrows from a shared machine, and gives back: a PostgreSQL database it creates
and drops, a Redis database it found empty and claimed, an HTTP port (pinned or free).

The benchmarks never use an existing database (``test`` is other people's): ``--postgres`` /
``VECTIS_BENCH_DATABASE_URL`` name a *server*; a scratch database is created on it through the
server's maintenance database and dropped afterwards, whatever happens. Redis is used only in a
database that is empty when the benchmark starts and that it claims with a key; only a database
it claimed is emptied afterwards, and only while the claim is still its own.
"""
from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

#: The server benchmarks create their scratch database on when none is given.
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The database connected to for CREATE/DROP DATABASE (every PostgreSQL server has it).
MAINTENANCE_DATABASE = "postgres"
#: Prefix of every scratch database's name.
SCRATCH_PREFIX = "vectis_bench_"
DEFAULT_REDIS_SERVER = "redis://127.0.0.1:6379"
#: Redis databases searched for an empty one, highest first (tests use low numbers).
REDIS_DATABASES = range(15, -1, -1)
#: Key that marks a Redis database as this run's; its value is the run's token.
CLAIM_KEY = "vectis-bench:claim"


class ScratchError(RuntimeError):
    """A shared resource cannot be borrowed safely; the message says what to do."""


def postgres_server(given: str | None) -> str:
    """``--postgres``, else ``VECTIS_BENCH_DATABASE_URL``, else the local server."""
    return given or os.environ.get("VECTIS_BENCH_DATABASE_URL") or DEFAULT_SERVER


def postgres_answers(server: str) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(maintenance_url(server))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "no server": the caller says so
        return False
    finally:
        engine.dispose()


def maintenance_url(server: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=MAINTENANCE_DATABASE).render_as_string(hide_password=False)


@contextmanager
def scratch_postgres(server: str) -> Iterator[str]:
    """A new database on ``server`` (its URL), dropped on exit even when the benchmark fails."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(maintenance_url(server), isolation_level="AUTOCOMMIT")
    name = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def scratch_redis(given: str | None, connect=None) -> Iterator[str]:
    """A Redis URL whose database this run claimed empty, or ``""`` (jobs run in-process).

    ``given`` (``--redis``, else ``VECTIS_BENCH_REDIS_URL``): ``none`` for no Redis; a URL with a
    database number pins that database, used only if it is empty; a URL without one (or the
    default) is searched for an empty database. ``connect(url)`` makes a client (tests pass a fake).
    """
    given = given or os.environ.get("VECTIS_BENCH_REDIS_URL") or ""
    if given == "none":
        yield ""
        return
    connect = connect or _connect
    server, pinned = _split(given or DEFAULT_REDIS_SERVER)
    token = uuid.uuid4().hex
    claimed = _claim(connect, server, [pinned] if pinned is not None else list(REDIS_DATABASES), token)
    if claimed is None:
        if pinned is not None:
            raise ScratchError(f"Redis database {pinned} on {server} is not empty (or does not answer); "
                               f"the benchmark uses only an empty one: pick another with --redis")
        yield ""
        return
    client, number = claimed
    try:
        yield f"{server}/{number}"
    finally:
        _release(client, token)


def _connect(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2)


def _split(url: str) -> tuple[str, int | None]:
    base, _, last = url.rstrip("/").rpartition("/")
    if last.isdigit() and base.startswith("redis"):
        return base, int(last)
    return url.rstrip("/"), None


def _claim(connect, server: str, numbers: list[int], token: str):
    """The first database of ``numbers`` that is empty, claimed with :data:`CLAIM_KEY`."""
    for number in numbers:
        client = connect(f"{server}/{number}")
        try:
            if client.dbsize() == 0 and client.set(CLAIM_KEY, token, nx=True):
                # Another client may have written between the two calls: the claim must be alone.
                if client.dbsize() == 1:
                    return client, number
                client.delete(CLAIM_KEY)
        except Exception:  # noqa: BLE001 - no answer from that server: no Redis for the run
            client.close()
            return None
        client.close()
    return None


def _release(client, token: str) -> None:
    """Empty the claimed database, only while the claim is still this run's."""
    try:
        owner = client.get(CLAIM_KEY)
        if owner is not None and owner.decode() == token:
            client.flushdb()
    finally:
        client.close()


def http_port(given: int | None) -> int:
    """``--port``, else ``VECTIS_BENCH_PORT``, else a port the kernel says is free."""
    if given:
        return given
    if os.environ.get("VECTIS_BENCH_PORT"):
        return int(os.environ["VECTIS_BENCH_PORT"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
