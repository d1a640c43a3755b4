"""``vectis db verify-backup``: restore a pg_dump archive into a scratch database and compare it
with the live one, table by table (row count and an order-independent checksum of the rows).

A backup nobody restored is a hope; this restores it. The scratch database is created next to
the configured one and dropped afterwards, whatever happens."""
from __future__ import annotations

import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from runtime.config import normalize_database_url
from runtime.errors import ConfigError

#: Rows of every table hashed one by one, the hashes sorted and hashed again: equal for equal
#: contents whatever the physical order.
CHECKSUM = """SELECT count(*), coalesce(md5(string_agg(md5(t::text), ',' ORDER BY md5(t::text))), '')
FROM {table} AS t"""
TABLES = """SELECT quote_ident(table_name) FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"""


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int | None
    backup_rows: int | None
    same: bool


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _digest(engine: Engine) -> dict[str, tuple[int, str]]:
    with engine.connect() as conn:
        tables = list(conn.execute(text(TABLES)).scalars())
        return {table: tuple(conn.execute(text(CHECKSUM.format(table=table))).one()) for table in tables}


def verify_backup(database_url: str, archive: Path) -> list[TableCheck]:
    url = make_url(normalize_database_url(database_url))
    if url.get_backend_name() != "postgresql":
        raise ConfigError("VECTIS_DATABASE_URL: verify-backup compares with a PostgreSQL database (backups are pg_dump archives)")
    if not archive.is_file():
        raise ConfigError(f"{archive}: no such file")
    if shutil.which("pg_restore") is None:
        raise ConfigError("pg_restore not found (Debian: apt-get install postgresql-client)")
    listed = subprocess.run(["pg_restore", "--list", str(archive)], capture_output=True, text=True)
    if listed.returncode != 0:
        raise ConfigError(f"{archive}: not a pg_dump custom-format archive ({listed.stderr.strip().splitlines()[-1]})")

    scratch = f"vectis_verify_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    source = create_engine(url)
    restored = None
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        scratch_url = url.set(database=scratch)
        done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                               "--dbname", _libpq(scratch_url), str(archive)], capture_output=True, text=True)
        if done.returncode != 0:
            raise ConfigError(f"{archive}: pg_restore failed: {done.stderr.strip().splitlines()[-1]}")
        restored = create_engine(scratch_url)
        backup, live = _digest(restored), _digest(source)
    finally:
        if restored is not None:
            restored.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
        source.dispose()
    return [TableCheck(table, live.get(table, (None,))[0], backup.get(table, (None,))[0], live.get(table) == backup.get(table))
            for table in sorted(set(live) | set(backup))]
