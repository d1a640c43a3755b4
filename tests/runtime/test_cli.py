"""The `vectis` command: definitions validate/publish/history/rollback, and one-line start-up errors."""
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from runtime.cli import cli
from tests.runtime.test_definitions_api import CHEAP, CHEAPER, TYPO

ROOT = Path(__file__).resolve().parents[2]


def _env(settings) -> dict[str, str]:
    return {
        "VECTIS_DATABASE_URL": settings.database_url,
        "VECTIS_REDIS_URL": settings.redis_url,
        "VECTIS_VAR_DIR": str(settings.var_dir),
        "VECTIS_SECRET_KEY": settings.secret_key,
    }


def _run(settings, *args):
    return CliRunner().invoke(cli, list(args), env=_env(settings), catch_exceptions=False)


def _vectis(*args, env: dict[str, str]):
    command = [str(Path(sys.executable).with_name("vectis")), *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_validate_a_broken_file_prints_file_line_errors_and_exits_1(settings, tmp_path):
    broken = tmp_path / "cheap.yaml"
    broken.write_text(TYPO)

    result = _vectis("definitions", "validate", str(broken), env=_env(settings))

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{broken}:6:")
    assert "did you mean 'price'?" in lines[0]
    assert lines[-1] == "1 error(s) in 1 of 1 file(s)"
    assert "Traceback" not in result.stderr


def test_validate_without_paths_checks_every_shipped_definition(settings):
    result = _run(settings, "definitions", "validate")

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("definition(s) valid")


def test_publish_history_and_rollback_from_the_command_line(app, settings, tmp_path):
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(CHEAP)
    second.write_text(CHEAPER)

    assert _run(settings, "definitions", "publish", str(first), "--author", "ops").output == "label/cheap: published revision 1\n"
    assert _run(settings, "definitions", "publish", str(second), "--author", "ops", "--note", "tighter").exit_code == 0
    rolled = _run(settings, "definitions", "rollback", "label", "cheap", "1", "--author", "ops")
    history = _run(settings, "definitions", "history", "label", "cheap").output.splitlines()
    listed = _run(settings, "definitions", "list", "--kind", "label").output

    assert rolled.output == "label/cheap: revision 1 republished as revision 3\n"
    assert [line.split("\t")[:2] for line in history] == [["3", "live"], ["2", "    "], ["1", "    "]]
    assert history[0].endswith("rollback to revision 1 (rollback to 1)")
    assert listed.startswith("label/cheap\trevision 3\tops\t")


def test_publishing_an_invalid_file_exits_1_and_changes_nothing(app, settings, tmp_path):
    broken = tmp_path / "cheap.yaml"
    broken.write_text(TYPO)

    result = CliRunner().invoke(cli, ["definitions", "publish", str(broken)], env=_env(settings))

    assert result.exit_code == 1
    assert f"{broken}:6:" in result.output
    assert _run(settings, "definitions", "list").output == ""


def test_unreachable_database_is_one_line_at_start_up(tmp_path):
    result = _vectis("db", "upgrade", env={"VECTIS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
                                           "VECTIS_VAR_DIR": str(tmp_path)})

    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("vectis: error: VECTIS_DATABASE_URL: cannot connect to postgresql+psycopg://nobody@127.0.0.1:1/none: ")


def test_bad_setting_is_one_line_at_start_up(tmp_path):
    result = _vectis("serve", env={"VECTIS_DATABASE_URL": "mysql://x/y", "VECTIS_VAR_DIR": str(tmp_path)})

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "vectis: error: VECTIS_DATABASE_URL: unsupported scheme 'mysql' in 'mysql://x/y'; use sqlite:///path or postgresql://user@host/db"
    ]
