"""A pack's predicate function and field, used by a live label, then the pack removed: the label is
reported stale in LiveDefinitions.failures, nothing crashes, other definitions stay live."""

import pytest

from runtime.app import create_app
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from tests.conftest import make_settings
from tests.runtime.test_packs_support import write_pack

ACME = """
from runtime.packs.api import PackContext


def register(pack: PackContext) -> None:
    pack.register("predicate_function", "is_gold", lambda fact: fact.get("price", 0) > 100,
                  label="Gold product")
    pack.register("fact_field", "origin", {"fact": "product", "schema": {"type": "string"}},
                  label="Country of origin")
"""

GOLD_FRENCH = """kind: label
name: gold_french
label: {text: Gold from France}
when:
  $fn: acme.is_gold
  acme.origin: FR
examples:
  - given: {price: 150, acme: {origin: FR}}
    expect: true
"""

CHEAP = """kind: label
name: cheap
label: {text: Cheap}
when:
  price: {lt: 20}
"""


@pytest.fixture
def with_acme(database_url, redis_url, tmp_path):
    packs = tmp_path / "packs"
    write_pack(packs, "acme", ACME, provides={"predicate_function": ["is_gold"],
                                              "fact_field": ["origin"]})
    app = create_app(make_settings(database_url, redis_url, tmp_path / "acme",
                                   extension_dirs=(packs,)))
    yield app
    app.extensions["vectis.db"].dispose()


def _publish(app, source):
    env = build_environment(app.extensions["vectis.registry"])
    return app.extensions["vectis.db"].run(
        lambda session: store.publish(session, source, env, author="m@example.test"))


def test_a_label_using_a_removed_pack_is_reported_stale(app, with_acme):
    # given a label using acme's function and field, published where acme is installed
    _publish(with_acme, GOLD_FRENCH)
    _publish(with_acme, CHEAP)
    label = live_definitions(with_acme).get("label", "gold_french")
    assert label.compiled.predicate({"price": 150, "acme": {"origin": "FR"}}) is True

    # when a process without acme (the pack removed) loads the live definitions
    live = live_definitions(app)
    live.refresh(force=True)

    # then that label is a failure saying which pack is missing, and the others still work
    assert live.failures == {("label", "gold_french"): (
        "label/gold_french@1:5:8: label/gold_french: /when/$fn: predicate function "
        "'acme.is_gold' belongs to pack 'acme', which is not installed; "
        "label/gold_french@1:6:3: label/gold_french: /when/acme.origin: field 'acme.origin' "
        "belongs to pack 'acme', which is not installed")}
    assert [d.name for d in live.all("label")] == ["cheap"]
    assert live.get("label", "cheap").compiled.predicate({"price": 10}) is True
