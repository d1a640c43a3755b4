"""The catalog phase on product listings: ``VariantPrice.discountedUnitPrice`` and the promotion
that set it, with one batch evaluation and the same statements whatever the page size."""
from __future__ import annotations

import pytest

from rules.batch import BatchEvaluator
from tests.conftest import make_settings
from tests.runtime.helpers import recorded_statements
from tests.runtime.test_labels import publish, seed

LISTING = """query L($first: Int) { products(first: $first) { nodes { slug variants {
  price { unitPrice { amount } discountedUnitPrice { amount } promotionLabel promotions } } } } }"""
DRILLS = """kind: promotion
name: drill_sale
message: Drill sale
phase: catalog
target: {categories: [tools], brands: [acme]}
action: {type: percentage_off, percent: 20}
examples:
  - given: {cart: {currency: EUR, lines: [{id: "1", sku: D, categories: [tools, drills], brand: acme, quantity: 1, unit_price: 10}]}}
    expect: {discount: "2.00"}
"""
CHEAP = """kind: promotion
name: cheap_items
message: Under 15
phase: catalog
target: {when: {unit_price: {lt: 15}}}
action: {type: amount_off, amount: {EUR: 1}}
"""


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path, definitions_poll_seconds=0)


@pytest.fixture
def evaluations(monkeypatch):
    calls = []
    original = BatchEvaluator.evaluate

    def counted(self, facts):
        calls.append(len(facts))
        return original(self, facts)

    monkeypatch.setattr(BatchEvaluator, "evaluate", counted)
    return calls


def prices(client, first=25):
    answer = client.post("/graphql", json={"query": LISTING, "variables": {"first": first}},
                         headers={"X-Channel-Slug": "web"}).get_json()
    assert "errors" not in answer, answer
    return {n["slug"]: n["variants"][0]["price"] for n in answer["data"]["products"]["nodes"]}


def test_catalog_promotions_discount_listed_prices(app, client, database):
    seed(database, 12)
    publish(app, DRILLS, CHEAP)
    shown = prices(client)
    # p00: 10.00, an acme drill (drills is under tools): equal priorities apply by name: 1.00 off, then 20%
    assert shown["p00"] == {"unitPrice": {"amount": "10.00"}, "discountedUnitPrice": {"amount": "7.20"},
                            "promotionLabel": "Under 15", "promotions": []}
    assert shown["p04"]["discountedUnitPrice"] == {"amount": "10.40"}  # 14.00 − 1.00, then 20%
    assert shown["p05"]["discountedUnitPrice"] == {"amount": "15.00"}  # not under 15, not a drill
    assert shown["p11"] == {"unitPrice": {"amount": "21.00"}, "discountedUnitPrice": {"amount": "21.00"},
                            "promotionLabel": None, "promotions": []}


def test_one_evaluation_and_the_same_statements_for_5_or_20_products(app, client, database, evaluations):
    seed(database)
    publish(app, DRILLS, CHEAP)
    prices(client, first=1)  # warm: the promotion set, the stale check and the operation cache
    counts, calls = {}, {}
    for first in (5, 20):
        evaluations.clear()
        with recorded_statements(database) as statements:
            shown = prices(client, first=first)
        counts[first], calls[first] = len(statements), list(evaluations)
        assert len(shown) == first and shown["p02"]["discountedUnitPrice"] == {"amount": "8.80"}
    assert calls == {5: [5], 20: [20]}  # one batch over the page's variants
    assert counts[5] == counts[20]
