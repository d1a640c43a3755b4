"""clearProductLabelStaleReferences: per extension, only functions it no longer provides, never
another extension's function of the same name; what it clears and what it leaves."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from runtime.app import create_app
from runtime.catalog import service
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.labels import index
from runtime.labels.models import LabelFunctionReference, LabelIndexState, ProductLabel
from runtime.labels.references import clear_stale_references
from tests.conftest import make_settings
from tests.runtime.helpers import gql, signed_in
from tests.runtime.test_labels import drain
from tests.runtime.test_packs_support import write_pack

GOLD = """
from runtime.packs.api import PackContext


def register(pack: PackContext) -> None:
    pack.register("predicate_function", "is_gold", lambda fact: fact.get("price", 0) > {limit},
                  label="Gold product")
"""

GOLD_A = "kind: label\nname: gold_a\nlabel: {text: Gold A}\nwhen: {$fn: acme.is_gold}\n"
GOLD_B = "kind: label\nname: gold_b\nlabel: {text: Gold B}\nwhen: {$fn: beta.is_gold}\n"
GOLD_AB = "kind: label\nname: gold_ab\nlabel: {text: Gold}\nwhen: {$or: [{$fn: acme.is_gold}, {$fn: beta.is_gold}]}\n"
CLEAR = "mutation C($e: String!) { clearProductLabelStaleReferences(extensionName: $e) }"


def app_with(database_url, redis_url, folder, packs):
    root = folder / "packs"
    for name, limit in packs.items():
        write_pack(root, name, GOLD.replace("{limit}", str(limit)), provides={"predicate_function": ["is_gold"]})
    return create_app(make_settings(database_url, redis_url, folder, extension_dirs=(root,)))


@pytest.fixture
def both(app, database_url, redis_url, tmp_path):
    """An app where acme and beta both provide ``is_gold``, with three gold labels indexed (``app``
    empties the tables afterwards)."""
    packed = app_with(database_url, redis_url, tmp_path / "both", {"acme": 100, "beta": 40})
    database = packed.extensions["vectis.db"]

    def catalog(session):
        for slug, price in (("ring", "150"), ("chain", "50"), ("pin", "5")):
            service.create_product(session, base_currency="EUR", slug=slug, name=slug,
                                   variants=[{"sku": slug.upper(), "base_price": Decimal(price)}])

    database.run(catalog)
    env = build_environment(packed.extensions["vectis.registry"])
    for source in (GOLD_A, GOLD_B, GOLD_AB):
        database.run(lambda s: store.publish(s, source, env, author="m@example.test"))
    drain(packed)
    yield packed
    database.dispose()


@pytest.fixture
def beta_only(both, database_url, redis_url, tmp_path):
    """The same database seen by a process where acme is removed."""
    app = app_with(database_url, redis_url, tmp_path / "beta", {"beta": 40})
    yield app
    app.extensions["vectis.db"].dispose()


def references(database):
    with database.session() as session:
        rows = session.execute(select(LabelFunctionReference.label_name, LabelFunctionReference.extension,
                                      LabelFunctionReference.function)).all()
    return sorted(tuple(row) for row in rows)


def indexed(database):
    with database.session() as session:
        rows = session.execute(select(ProductLabel.label_name, ProductLabel.product_id)).all()
    names = {}
    for label, _ in rows:
        names[label] = names.get(label, 0) + 1
    return names


def test_the_index_records_which_extension_functions_each_label_calls(both):
    database = both.extensions["vectis.db"]

    assert references(database) == [("gold_a", "acme", "is_gold"), ("gold_ab", "acme", "is_gold"),
                                    ("gold_ab", "beta", "is_gold"), ("gold_b", "beta", "is_gold")]
    assert indexed(database) == {"gold_a": 1, "gold_b": 2, "gold_ab": 2}  # acme: > 100, beta: > 40


def test_a_relabel_where_the_pack_is_missing_keeps_its_labels_rows(both, beta_only):
    database = beta_only.extensions["vectis.db"]

    with beta_only.app_context():
        index.relabel_catalog()

    assert indexed(database) == {"gold_a": 1, "gold_b": 2, "gold_ab": 2}
    assert len(references(database)) == 4


def test_clearing_an_extension_touches_only_its_own_dropped_functions(both, beta_only):
    database = beta_only.extensions["vectis.db"]
    client = beta_only.test_client()
    token = signed_in(beta_only, client, "merchandiser")

    cleared = gql(client, CLEAR, {"e": "acme"}, token).get_json()["data"]["clearProductLabelStaleReferences"]

    # acme's two references went, with the index rows of the labels holding them; beta's
    # is_gold, of the same name, is untouched, and gold_b still indexed
    assert cleared == 2
    assert references(database) == [("gold_ab", "beta", "is_gold"), ("gold_b", "beta", "is_gold")]
    assert indexed(database) == {"gold_b": 2}
    with database.session() as session:
        assert sorted(session.execute(select(LabelIndexState.label_name)).scalars()) == ["gold_b"]
    # nothing left to clear, and beta still provides its function
    assert gql(client, CLEAR, {"e": "acme"}, token).get_json()["data"]["clearProductLabelStaleReferences"] == 0
    assert gql(client, CLEAR, {"e": "beta"}, token).get_json()["data"]["clearProductLabelStaleReferences"] == 0
    assert len(references(database)) == 2


def test_an_extension_that_is_gone_too_keeps_its_references_until_cleared_by_name(both, app):
    # given a process where neither pack is installed
    database = app.extensions["vectis.db"]
    registry = app.extensions["vectis.registry"]

    # when acme is cleared, beta's references (stale as well here) stay: only the named extension
    assert database.run(lambda s: clear_stale_references(s, registry, "acme")) == 2
    assert references(database) == [("gold_ab", "beta", "is_gold"), ("gold_b", "beta", "is_gold")]
    assert database.run(lambda s: clear_stale_references(s, registry, "beta")) == 2
    assert references(database) == [] and indexed(database) == {}


@pytest.mark.parametrize("name", ["", "Acme", "acme.is_gold", "a"])
def test_a_bad_extension_name_is_refused_and_nothing_changes(both, beta_only, name):
    database = beta_only.extensions["vectis.db"]
    client = beta_only.test_client()
    token = signed_in(beta_only, client, "merchandiser")

    answer = gql(client, CLEAR, {"e": name}, token).get_json()

    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_EXTENSION_NAME"
    assert answer["errors"][0]["message"] == (f"extensionName: {name!r} is not a pack name (lower-case letters, "
                                              f"digits and '_', starting with a letter)")
    assert len(references(database)) == 4 and indexed(database) == {"gold_a": 1, "gold_b": 2, "gold_ab": 2}


def test_clearing_needs_the_publish_permission(both, beta_only):
    client = beta_only.test_client()
    token = signed_in(beta_only, client, "viewer")

    answer = gql(client, CLEAR, {"e": "acme"}, token).get_json()

    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(references(beta_only.extensions["vectis.db"])) == 4


def test_concurrent_clears_count_each_reference_once(both, beta_only):
    database = beta_only.extensions["vectis.db"]
    registry = beta_only.extensions["vectis.registry"]
    results, barrier = [], threading.Barrier(4)

    def clear():
        barrier.wait()
        results.append(database.run(lambda s: clear_stale_references(s, registry, "acme")))

    threads = [threading.Thread(target=clear) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 4 and sum(results) == 2  # each reference counted by exactly one caller
    assert references(database) == [("gold_ab", "beta", "is_gold"), ("gold_b", "beta", "is_gold")]
