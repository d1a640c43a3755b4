"""Backups (issue 18): scripts/backup_postgres.sh dumps and rotates, `vectis db verify-backup`
restores a dump into a scratch database and compares every table with the live one."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.runtime.helpers import make_user

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
                                reason="needs pg_dump and pg_restore (scripts/test.sh installs postgresql-client)")


@pytest.fixture
def postgres(backend, settings):
    if backend != "postgres":
        pytest.skip("backups are of PostgreSQL")
    return settings


def _run(args: list[str], settings, **env):
    environment = {**os.environ, "VECTIS_DATABASE_URL": settings.database_url, "VECTIS_VAR_DIR": str(settings.var_dir),
                   "VECTIS_SECRET_KEY": settings.secret_key, **env}
    return subprocess.run(args, env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _vectis(*args: str, settings):
    return _run([sys.executable, "-c", "from runtime.cli import main; main()", *args], settings)


def _databases(settings) -> set[str]:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    engine.dispose()
    return names


def test_a_backup_verifies_then_a_change_since_is_found(app, postgres, tmp_path):
    make_user(app, "ann@example.test", ["admin"])
    make_user(app, "bob@example.test", ["sales"])
    before = _databases(postgres)

    dumped = _run(["scripts/backup_postgres.sh", str(tmp_path / "backups")], postgres)
    assert dumped.returncode == 0, dumped.stderr
    archive = Path(dumped.stdout.splitlines()[0])
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("vectis-") and archive.stat().st_size > 0

    verified = _vectis("db", "verify-backup", str(archive), settings=postgres)
    assert verified.returncode == 0, verified.stderr
    lines = verified.stdout.splitlines()
    assert [line for line in lines if line.startswith("user_")] == [
        "user_account: 2 row(s) here, 2 in the backup: same", "user_role: 2 row(s) here, 2 in the backup: same"], lines
    assert lines[-1].startswith(f"backup {archive} verified: ") and lines[-1].endswith(" tables restored with the same rows")
    assert _databases(postgres) == before  # the scratch database is gone

    with app.extensions["vectis.db"].engine.begin() as conn:
        conn.execute(text("""UPDATE user_account SET display_name = 'changed' WHERE email = 'bob@example.test'"""))
    differs = _vectis("db", "verify-backup", str(archive), settings=postgres)
    assert differs.returncode == 1
    assert differs.stderr.strip() == 'vectis: the backup differs from the database in 1 table(s): user_account'
    assert _databases(postgres) == before


def test_only_the_newest_dumps_are_kept(app, postgres, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (folder / f"vectis-{stamp}.dump").write_bytes(b"old")
    (folder / "notes.txt").write_text("not a dump")
    dumped = _run(["scripts/backup_postgres.sh", str(folder)], postgres, VECTIS_BACKUP_KEEP="2")
    assert dumped.returncode == 0, dumped.stderr
    newest = Path(dumped.stdout.splitlines()[0]).name
    assert sorted(p.name for p in folder.iterdir()) == sorted([newest, "vectis-20260103T000000Z.dump", "notes.txt"])


def test_a_file_that_is_not_a_dump_is_one_line(app, postgres, tmp_path):
    bogus = tmp_path / "bogus.dump"
    bogus.write_text("hello")
    result = _vectis("db", "verify-backup", str(bogus), settings=postgres)
    assert result.returncode == 2
    assert result.stderr.startswith(f"vectis: error: {bogus}: not a pg_dump custom-format archive (")
    assert len(result.stderr.strip().splitlines()) == 1
