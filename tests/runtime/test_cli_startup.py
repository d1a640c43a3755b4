"""Issue 12, items 11, 12 and 14: what each ``vectis`` command imports and builds, that the lighter
app the definitions commands use validates exactly as the whole app does, and that a control
character or a Latin-1 file is a located error from the command line, never a traceback."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rules.kinds import kind_names
from rules.pipeline import check_paths

from runtime.app import create_app
from runtime.cli import LAZY_COMMANDS, cli
from runtime.definitions import shipped
from runtime.definitions.environment import build_environment

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "definitions" / "broken"
HEAVY = ("flask", "sqlmodel", "graphql", "ariadne", "rules", "runtime.app")


def _imported_by(args: list[str], env: dict[str, str]) -> tuple[int, list[str], str]:
    """Run ``vectis ARGS`` in a fresh interpreter; the heavy top-level packages it imported."""
    script = (
        "import json, sys\n"
        "from runtime.cli import cli\n"
        "try:\n"
        f"    cli.main({args!r}, prog_name='vectis')\n"
        "except SystemExit as exc:\n"
        "    status = exc.code or 0\n"
        f"heavy = sorted({{m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m in {HEAVY!r}}})\n"
        "print(json.dumps([status, heavy]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    status, heavy = json.loads(done.stderr.strip().splitlines()[-1])
    return status, heavy, done.stdout


def _env(settings) -> dict[str, str]:
    return {"VECTIS_DATABASE_URL": settings.database_url, "VECTIS_REDIS_URL": settings.redis_url,
            "VECTIS_VAR_DIR": str(settings.var_dir), "VECTIS_SECRET_KEY": settings.secret_key}


@pytest.mark.parametrize("args", [["--help"], ["definitions", "--help"], ["db", "--help"], ["users", "--help"]])
def test_help_builds_nothing_and_imports_neither_flask_nor_the_rules(args, tmp_path):
    status, heavy, out = _imported_by(args, {"VECTIS_VAR_DIR": str(tmp_path)})

    assert status == 0
    assert heavy == []
    assert out.startswith("Usage: vectis")


def test_history_reads_the_database_without_the_app_or_the_rules_pipeline(app, settings):
    status, heavy, out = _imported_by(["definitions", "history", "label", "nothing"], _env(settings))

    assert status == 1
    assert {m.split(".")[0] for m in heavy} == {"sqlmodel"}


def test_the_top_level_help_lists_every_lazy_command_with_its_own_short_help():
    lines = {name: cli.get_command(None, name).get_short_help_str(200) for name in LAZY_COMMANDS}

    assert lines == {name: help_line for name, (_, help_line) in LAZY_COMMANDS.items()}


def test_the_app_without_http_layer_validates_exactly_as_the_whole_app(settings):
    # given the whole app and the one the definitions commands build
    whole = create_app(settings, probe=False)
    light = create_app(settings, probe=False, web=False)
    whole_env = build_environment(whole.extensions["vectis.registry"])
    light_env = build_environment(light.extensions["vectis.registry"])

    # when every shipped definition and every broken fixture is checked with each
    sources = shipped.shipped_sources(whole.extensions["vectis.registry"])
    results = [check_paths([*sources, (BROKEN, "broken")], env) for env in (whole_env, light_env)]

    # then the same kinds, names, definitions and errors
    assert "vectis.graphql_schema" not in light.extensions
    assert shipped.shipped_sources(light.extensions["vectis.registry"]) == sources
    assert light_env.effects == whole_env.effects
    assert light_env.tender_types == whole_env.tender_types
    assert set(light_env.predicate_functions) == set(whole_env.predicate_functions)
    assert light_env.facts.schemas == whole_env.facts.schemas
    assert (light_env.packs, light_env.permissions) == (whole_env.packs, whole_env.permissions)
    assert [str(e) for e in results[1].errors] == [str(e) for e in results[0].errors]
    assert [d.checksum for d in results[1].definitions] == [d.checksum for d in results[0].definitions]
    assert len(results[0].errors) > 20 and len(results[0].definitions) >= 9
    assert set(kind_names()) >= {"automation", "label", "mmoq_cap", "state_machine"}


def test_validate_reports_a_control_character_and_a_latin1_file_at_their_lines(settings, tmp_path):
    control = tmp_path / "control.yaml"
    control.write_bytes((BROKEN / "messages" / "control_character.yaml").read_bytes())
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes((BROKEN / "messages" / "not_utf8.yaml").read_bytes())

    result = CliRunner().invoke(cli, ["definitions", "validate", str(control), str(latin1)], env=_env(settings))

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{control}:4:15: malformed YAML: U+000B (vertical tab) is not allowed in YAML; remove it, or write "
        "it as \\x0b inside a double-quoted string",
        f"{latin1}:4: not UTF-8: byte 0xFC at column 11 cannot be decoded (Latin-1?); save the file as UTF-8",
        "2 error(s) in 2 of 2 file(s)",
    ]
    assert "Traceback" not in result.output


def test_publishing_a_latin1_file_exits_1_and_publishes_nothing(app, settings, tmp_path):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes((BROKEN / "messages" / "not_utf8.yaml").read_bytes())
    runner = CliRunner()

    result = runner.invoke(cli, ["definitions", "publish", str(latin1)], env=_env(settings))

    assert result.exit_code == 1
    assert result.output == f"{latin1}:4: not UTF-8: byte 0xFC at column 11 cannot be decoded (Latin-1?); save the file as UTF-8\n"
    assert runner.invoke(cli, ["definitions", "list"], env=_env(settings)).output == ""


def test_a_database_without_the_schema_is_one_line_not_a_traceback(tmp_path):
    # given an empty SQLite file (never upgraded)
    env = {**os.environ, "VECTIS_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db", "VECTIS_VAR_DIR": str(tmp_path),
           "VECTIS_REDIS_URL": ""}

    # when a user is created and a history read
    created = subprocess.run([sys.executable, "-c", "from runtime.cli import main; main()", "users", "create",
                              "--email", "a@example.test", "--password", "long enough password", "--role", "admin"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    history = subprocess.run([sys.executable, "-c", "from runtime.cli import main; main()", "definitions", "history",
                              "label", "sale"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    # then each says so in one line and exits 2
    for done, table in ((created, "user_account"), (history, "definition_revision")):
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"vectis: error: the database refused the command (no such table: {table}); if its schema is behind, "
            "run `vectis db upgrade`"]
