"""Issue 12, item 14: ``vectis definitions validate`` reads what definitions may name from a cache
kept current by a fingerprint; with it, validation gives exactly the results of the whole app."""
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rules.pipeline import check_paths

from runtime.app import create_app
from runtime.definitions import vocabulary
from runtime.definitions.environment import build_environment
from runtime.definitions.shipped import shipped_sources
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "definitions" / "broken"
GIFT_LABEL = """kind: label
name: gift
label: {text: Gift, style: sale}
when:
  $fn: example_pack.is_gift_wrappable
examples:
  - given: {tags: [giftable], weight_grams: 300}
    expect: true
  - given: {tags: [giftable], weight_grams: 9000}
    expect: false
"""


@pytest.fixture
def pack_settings(database_url, redis_url, tmp_path):
    """Settings with the example pack installed (it provides a predicate function)."""
    return make_settings(database_url, redis_url, tmp_path, extension_dirs=(ROOT / "examples",))


def test_the_kept_environment_is_the_registries_environment_field_by_field(pack_settings):
    # given the registries built by the whole app
    whole = create_app(pack_settings, probe=False)
    expected = build_environment(whole.extensions["vectis.registry"])

    # when the vocabulary is built, kept, and read back
    vocabulary.registered_environment(pack_settings)
    kept, sources = vocabulary.load(pack_settings)

    # then every field is the same (functions by name: they are found when called)
    for field in dataclasses.fields(expected):
        if field.name == "predicate_functions":
            assert set(kept.predicate_functions) == set(expected.predicate_functions) == {"example_pack.is_gift_wrappable"}
        elif field.name == "facts":
            assert kept.facts.schemas == expected.facts.schemas
        else:
            assert getattr(kept, field.name) == getattr(expected, field.name), field.name
    assert sources == shipped_sources(whole.extensions["vectis.registry"])


def test_validation_with_the_kept_environment_equals_the_whole_apps(pack_settings, tmp_path):
    # given a definition that calls a pack's function in its examples, the broken fixtures and
    # every shipped definition
    gift = tmp_path / "gift.yaml"
    gift.write_text(GIFT_LABEL)
    whole = create_app(pack_settings, probe=False)
    registry = whole.extensions["vectis.registry"]
    vocabulary.registered_environment(pack_settings)
    kept, _ = vocabulary.load(pack_settings)
    paths = [*shipped_sources(registry), (BROKEN, "broken"), gift]

    # when each environment checks them
    expected = check_paths(paths, build_environment(registry))
    got = check_paths(paths, kept)

    # then the same errors and the same definitions
    assert [str(e) for e in got.errors] == [str(e) for e in expected.errors]
    assert [d.checksum for d in got.definitions] == [d.checksum for d in expected.definitions]
    assert got.get("label", "gift") is not None and len(expected.errors) > 20


def test_a_changed_input_makes_the_kept_environment_stale(database_url, redis_url, tmp_path):
    # given an extension folder and a kept environment
    extra = tmp_path / "packs"
    extra.mkdir()
    settings = make_settings(database_url, redis_url, tmp_path, extension_dirs=(extra,))
    vocabulary.registered_environment(settings)
    assert vocabulary.load(settings) is not None

    # when a file appears in it, or the pack settings change
    (extra / "notes.yaml").write_text("a: 1\n")
    stale_file = vocabulary.load(settings)
    vocabulary.registered_environment(settings)
    disabled = make_settings(database_url, redis_url, tmp_path, extension_dirs=(extra,),
                             disabled_packs=frozenset({"mock_gateway"}))

    # then it is not used
    assert stale_file is None
    assert vocabulary.load(settings) is not None
    assert vocabulary.load(disabled) is None


def test_a_kept_environment_from_another_kind_set_is_not_used(settings):
    vocabulary.registered_environment(settings)
    path = vocabulary.cache_file(settings)
    data = json.loads(path.read_text())
    data["kinds"] = [*data["kinds"], "provided_by_a_pack"]
    path.write_text(json.dumps(data))

    assert vocabulary.load(settings) is None


def test_validate_with_a_current_cache_builds_no_app(settings):
    # given a kept environment for these settings
    env = {**os.environ, "VECTIS_DATABASE_URL": settings.database_url, "VECTIS_VAR_DIR": str(settings.var_dir),
           "VECTIS_REDIS_URL": "", "VECTIS_SECRET_KEY": settings.secret_key}
    script = (
        "import sys\n"
        "from runtime.cli import cli\n"
        "try:\n"
        "    cli.main(['definitions', 'validate', 'definitions/label/sale.yaml'], prog_name='vectis')\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code, sorted(m for m in ('runtime.app', 'sqlmodel', 'graphql', 'ariadne') if m in sys.modules), file=sys.stderr)\n"
    )
    first = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    kept = json.loads(vocabulary.cache_file(settings).read_text())["fingerprint"]

    # when validate runs again
    before = vocabulary.fingerprint(settings)
    second = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    after = vocabulary.fingerprint(settings)

    # then the first built the registries; the second did not, unless the tree changed meanwhile
    # (a shared working tree with other people editing it)
    assert first.stdout == second.stdout == "1 definition(s) valid\n"
    assert "'runtime.app'" in first.stderr.splitlines()[-1]
    if kept == before == after:
        assert second.stderr.splitlines()[-1] == "exit 0 []"


def test_an_environment_field_the_cache_cannot_keep_means_no_cache(settings):
    env = dataclasses.replace(build_environment(create_app(settings, probe=False, web=False).extensions["vectis.registry"]),
                              money=object())

    assert vocabulary.save(settings, env, []) is False
    assert not vocabulary.cache_file(settings).exists()


def test_a_var_folder_that_cannot_be_written_means_no_cache_not_a_failure(database_url, redis_url, tmp_path):
    # given a var folder whose cache path is taken by a file (nothing can be written under it)
    (tmp_path / "cache").write_text("not a folder")
    settings = make_settings(database_url, redis_url, tmp_path)

    # when the vocabulary is built
    env, sources = vocabulary.environment(settings)

    # then validation has its environment, and nothing is kept
    assert "core.release_stock" in env.effects and sources
    assert vocabulary.load(settings) is None
