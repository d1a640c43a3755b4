"""Issue 12, item 11 and "make it stay fixed": definition sources, hostile or careless, into the
pipeline (as ``vectis definitions validate`` reads files), the command itself, and
``validateDefinition``/``publishDefinition`` over GraphQL. Never a traceback, never
``INTERNAL_SERVER_ERROR``, and a refused source never changes the live revision. Bounded and
derandomized so it adds a few seconds per backend."""
import random
import re
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st
from rules.pipeline import check_paths
from sqlmodel import func, select

from runtime.cli import cli
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.models import DefinitionRevision
from tests.runtime.helpers import gql, signed_in
from tests.runtime.test_definitions_api import CHEAP, PUBLISH, VALIDATE

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted(p.read_text("utf-8") for p in [*ROOT.glob("definitions/*/*.yaml"),
                                               *ROOT.glob("tests/fixtures/definitions/valid/*.yaml"),
                                               *ROOT.glob("tests/fixtures/definitions/mmoq_cap/*.yaml")])
#: Pieces a careless author or a fuzzer inserts: YAML syntax, controls, surrogates, huge numbers.
TOKENS = ["", " ", "\n", "  ", "- ", ": ", "{", "}", "[", "]", "'", '"', "#", "&a ", "*a", "!!str ", "!!python/object ",
          "null", "~", "-1", "1e999", "0x", ".nan", ".inf", "true", "$and", "$or", "$not", "$gt", "any", "\t", "\x0b",
          "\x00", "\x1b", "\ud800", "\ufeff", "é", "9" * 400, "[" * 200, "---\n", "? ", "|", ">", "%", "@", "`", "\\"]
LINE = re.compile(r"^(.+?)(:\d+(:\d+)?)?: .+$")
FUZZ = fuzz_settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def sources(draw) -> str:
    """A mutated shipped definition, arbitrary text, or decoded random bytes."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return draw(st.text(max_size=300))
    if choice == 1:
        return draw(st.binary(max_size=300)).decode("latin-1")
    text = draw(st.sampled_from(SEEDS))
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 4))):
        at = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.4:
            text = text[:at] + rng.choice(TOKENS) + text[at:]
        elif op < 0.6:
            text = text[:at] + text[at + rng.randint(1, 30):]
        elif op < 0.8:
            lines = text.split("\n")
            lines.insert(rng.randrange(len(lines)), rng.choice(lines))
            text = "\n".join(lines)
        else:
            text = text[:at] + chr(rng.randrange(0x3000)) + text[at:]
    return text


def _env(app):
    return build_environment(app.extensions["vectis.registry"])


def _live(database) -> list[tuple]:
    with database.session() as session:
        rows = session.exec(select(DefinitionRevision).where(DefinitionRevision.is_live)).all()
        return sorted((r.kind, r.name, r.revision, r.checksum) for r in rows)


def _count(database) -> int:
    with database.session() as session:
        return session.exec(select(func.count()).select_from(DefinitionRevision)).one()


def test_a_control_character_is_a_located_error_over_graphql_and_changes_nothing(app, client, database):
    # given a live label and a merchandiser
    token = signed_in(app, client, "merchandiser")
    gql(client, PUBLISH, {"source": CHEAP}, token=token)
    before = _live(database)
    broken = CHEAP.replace("text: Cheap", "text: Cheap\x0b")

    # when the source with a vertical tab is validated and published
    validated = gql(client, VALIDATE, {"source": broken}, token=token).get_json()
    published = gql(client, PUBLISH, {"source": broken}, token=token).get_json()

    # then both answer INVALID_DEFINITION at line 4, column 14, and the live revision stays
    message = ("source:4:14: malformed YAML: U+000B (vertical tab) is not allowed in YAML; remove it, or "
               "write it as \\x0b inside a double-quoted string")
    assert validated["data"]["validateDefinition"]["errors"] == [
        {"code": "INVALID_DEFINITION", "field": None, "line": 4, "message": message, "hint": None}]
    assert validated["data"]["validateDefinition"]["valid"] is False
    assert published["data"]["publishDefinition"]["definition"] is None
    assert [(e["code"], e["line"], e["column"], e["message"]) for e in published["data"]["publishDefinition"]["errors"]] == [
        ("INVALID_DEFINITION", 4, 14, message)]
    assert _live(database) == before and _count(database) == 1


@FUZZ
@given(source=sources())
def test_fuzzed_sources_never_crash_the_pipeline(app, source, tmp_path_factory):
    # given a fuzzed source written to a file as an author would save it (UTF-8, or Latin-1 when it
    # cannot be UTF-8)
    folder = tmp_path_factory.mktemp("fuzz")
    data = source.encode("utf-8", "surrogatepass")
    (folder / "f.yaml").write_bytes(data)

    # when the folder is checked as `vectis definitions validate` checks it
    result = check_paths([folder], _env(app), origin="fuzz")

    # then it is valid, or refused with located errors in plain text
    assert result.ok == bool(result.definitions)
    for error in result.errors:
        assert LINE.match(str(error).split("\n")[0]), str(error)
        assert "Traceback" not in str(error) and error.path == "fuzz/f.yaml"


@FUZZ
@given(source=sources())
def test_fuzzed_sources_over_graphql_are_refused_as_data_and_change_nothing(app, client, database, source):
    # signed in once per app: hypothesis runs every example in the same function-scoped app
    if "tests.fuzz_token" not in app.extensions:
        app.extensions["tests.fuzz_token"] = signed_in(app, client, "merchandiser")
    token = app.extensions["tests.fuzz_token"]
    checked = store.check(source, _env(app))
    before, count = _live(database), _count(database)

    validated = gql(client, VALIDATE, {"source": source}, token=token)
    published = gql(client, PUBLISH, {"source": source}, token=token)

    for response in (validated, published):
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        body = response.get_data(as_text=True)
        assert "INTERNAL_SERVER_ERROR" not in body and "Traceback" not in body
        for error in response.get_json().get("errors") or []:
            assert error.get("extensions", {}).get("code"), error
    payload = (published.get_json().get("data") or {}).get("publishDefinition")
    if checked.ok and payload is not None:
        assert payload["errors"] == [] and payload["definition"]["isLive"] is True
    else:
        # refused (by the pipeline, or at the edge before it): nothing changed
        assert payload is None or (payload["definition"] is None and payload["errors"])
        assert all(e["code"] for e in (payload or {"errors": []})["errors"])
        assert (_live(database), _count(database)) == (before, count)


def test_fuzzed_files_through_the_command_exit_1_with_one_line_per_error(settings, tmp_path):
    # given forty fuzzed files in one folder (one command: one app build)
    examples = []

    @fuzz_settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(source=sources())
    def collect(source):
        examples.append(source)

    collect()
    for index, source in enumerate(examples):
        (tmp_path / f"f{index:02}.yaml").write_bytes(source.encode("utf-8", "surrogatepass"))
    env = {"VECTIS_DATABASE_URL": settings.database_url, "VECTIS_VAR_DIR": str(settings.var_dir),
           "VECTIS_REDIS_URL": settings.redis_url, "VECTIS_SECRET_KEY": settings.secret_key}

    # when `vectis definitions validate` checks the folder
    result = CliRunner().invoke(cli, ["definitions", "validate", str(tmp_path)], env=env)

    # then every line is a located error or the summary, and nothing raised
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1)
    lines = result.output.splitlines()
    assert lines and "Traceback" not in result.output
    summary = lines[-1]
    assert re.fullmatch(r"\d+ error\(s\) in \d+ of \d+ file\(s\)|\d+ definition\(s\) valid", summary), summary
    for line in lines[:-1]:
        assert LINE.match(line) or line.startswith(" "), line
