"""MMOQ caps over GraphQL: the variant's own limits as fallback, a published cap changing answers
without a restart (and naming its revision), cart-aggregate counting across packages, placeOrder
re-checking inside its transaction, the 30-day window, cartBulkLookup and bulkAddToCart."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from runtime.clock import utcnow
from runtime.catalog.models import ProductVariant
from runtime.orders.models import Order
from runtime.auth.models import User
from tests.runtime.helpers import login, signed_in
from tests.runtime.test_carts_api import ADD, ERRORS, cart_state, customer, new_cart, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_packaging_api import ladder

VIOLATIONS = "violations { code sku limitName limit requested allowed window unit definition revision variant { sku } }"
ADD_V = (f"mutation($id: ID!, $lines: [CartLineInput!]!) {{ addCartLines(cartId: $id, lines: $lines) {{"
         f" cart {{ lines {{ quantity package }} }} {VIOLATIONS} {ERRORS} }} }}")
PLACE_V = ("mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) { order { id } "
           f"{VIOLATIONS} {ERRORS} }} }}")
PUBLISH = ("mutation($source: String!) { publishDefinition(source: $source) { definition { revision } "
           "errors { code message } } }")
LOOKUP = ("query($input: CartBulkLookupInput!) { cartBulkLookup(input: $input) { rows { index sku variant { sku }"
          " quantity package packageHint multiplier baseQuantity unitChanged unitPrice { amount } lineTotal { amount }"
          f" {VIOLATIONS} {ERRORS} }} {ERRORS} }} }}")
BULK_ADD = ("mutation($id: ID!, $rows: [CartBulkRowInput!]!) { bulkAddToCart(cartId: $id, rows: $rows) {"
            " cart { lines { quantity package variant { sku } } } added { index sku } failed { index sku"
            f" errors {{ code field }} violations {{ code }} }} violations {{ code }} {ERRORS} }} }}")

CAP = """kind: mmoq_cap
name: mug_boxes
select:
  skus: [MUG-1]
limits:
  increment: {increment}
  max_per_customer_per_order: 120
  display_unit: box
examples:
  - given: {{variant: {{sku: MUG-1}}, quantity: {increment}}}
    expect: {{applies: true, violations: []}}
"""


def variant_caps(app, sku: str = "MUG-1", **limits) -> None:
    def work(session):
        variant = session.exec(select(ProductVariant).where(ProductVariant.sku == sku)).one()
        for name, value in limits.items():
            setattr(variant, f"mmoq_{name}", value)
        session.add(variant)

    app.extensions["vectis.db"].run(work)


def publish(app, client, source: str) -> int:
    """Publish through GraphQL; the app polls for new revisions on every request (as a production
    process does every ``definitions_poll_seconds``), nothing is refreshed by hand."""
    app.config["VECTIS"] = replace(app.config["VECTIS"], definitions_poll_seconds=0)
    known = rows(app, User, User.email == "merchandiser@example.test")
    token = login(client, "merchandiser@example.test") if known else signed_in(app, client, "merchandiser")
    answer = post(client, PUBLISH, {"source": source}, token)["data"]["publishDefinition"]
    assert answer["errors"] == []
    return answer["definition"]["revision"]


def test_the_variants_own_minimum_refuses_add_to_cart_as_data_and_nothing_changes(app, client):
    store(app)
    variant_caps(app, min_quantity=5)
    cart = new_cart(client, [{"sku": "CUP-1", "quantity": 1}])["id"]
    before = cart_state(app)

    answer = post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 2}]})["data"]["addCartLines"]

    assert answer["cart"] is None
    assert answer["errors"] == [{"code": "MMOQ_BELOW_MIN", "field": "lines", "message":
                                 "lines: 'MUG-1': at least 5 units per order, 2 requested (the variant's own limit)"}]
    assert answer["violations"] == [{"code": "MMOQ_BELOW_MIN", "sku": "MUG-1", "limitName": "minQuantity", "limit": 5,
                                     "requested": 2, "allowed": 5, "window": "ORDER", "unit": None,
                                     "definition": None, "revision": None, "variant": {"sku": "MUG-1"}}]
    assert cart_state(app) == before


def test_a_published_cap_changes_the_answer_without_a_restart_and_counts_all_packages(app, client):
    # given mugs in boxes of 12 and a cart with one box: fine while no cap applies
    store(app)
    ladder(app, {"box": 12})
    cart = new_cart(client)["id"]
    assert post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 1, "package": "box"}]}
                )["data"]["addCartLines"]["errors"] == []

    # when a merchandiser publishes "multiples of 12" and the buyer adds 6 loose mugs
    revision = publish(app, client, CAP.format(increment=12))
    answer = post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 6}]})["data"]["addCartLines"]

    # then the cart's 18 mugs (box + loose) break the increment, set by that revision
    assert [(v["code"], v["limit"], v["requested"], v["allowed"], v["unit"], v["definition"], v["revision"])
            for v in answer["violations"]] == [("MMOQ_NOT_INCREMENT", 12, 18, 24, "box", "mug_boxes", revision)]
    assert answer["errors"][0]["message"] == ("lines: 'MUG-1': only in multiples of 12 units, 18 requested (nearest "
                                             f"allowed: 24) (mmoq_cap mug_boxes revision {revision})")

    # and a new revision (multiples of 6) lets the same change through
    second = publish(app, client, CAP.format(increment=6))
    assert second == revision + 1
    answer = post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 6}]})["data"]["addCartLines"]
    assert answer["errors"] == [] and answer["violations"] == []
    assert [(l["package"], l["quantity"]) for l in answer["cart"]["lines"]] == [("box", 1), (None, 6)]


def test_a_cap_overrides_the_variants_field_for_the_limits_it_sets_and_the_variant_fills_the_rest(app, client):
    store(app)
    variant_caps(app, max_per_order=100, min_quantity=2)
    revision = publish(app, client, CAP.format(increment=1))  # sets max_per_customer_per_order 120
    cart = new_cart(client)["id"]

    answer = post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 121}]})["data"]["addCartLines"]

    # the cap sets max_per_customer_per_order (120), the variant's 100 only fills limits no cap sets
    assert [(v["code"], v["limit"], v["definition"], v["revision"]) for v in answer["violations"]] == [
        ("MMOQ_ABOVE_MAX", 120, "mug_boxes", revision)]
    answer = post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 1}]})["data"]["addCartLines"]
    assert [(v["code"], v["limit"], v["definition"]) for v in answer["violations"]] == [("MMOQ_BELOW_MIN", 2, None)]


def test_place_order_rechecks_caps_in_its_transaction(app, client):
    # given a ready cart of 2 mugs, then a cap of multiples of 12 published
    store(app)
    cart = ready_cart(client, quantity=2)
    revision = publish(app, client, CAP.format(increment=12))
    before = cart_state(app)

    answer = post(client, PLACE_V, {"id": cart, "key": "k1"})["data"]["placeOrder"]

    assert answer["order"] is None
    assert [e["code"] for e in answer["errors"]] == ["MMOQ_NOT_INCREMENT"]
    assert [(v["code"], v["requested"], v["allowed"], v["revision"]) for v in answer["violations"]] == [
        ("MMOQ_NOT_INCREMENT", 2, 12, revision)]
    assert rows(app, Order) == []
    assert cart_state(app) == before


def test_the_30_day_window_counts_placed_non_cancelled_orders(app, client):
    # given a customer limited to 10 mugs in 30 days who ordered 6
    store(app)
    variant_caps(app, max_per_customer_30d=10)
    token = customer(app, client)
    first = ready_cart(client, token, quantity=6)
    assert post(client, PLACE_V, {"id": first, "key": "k1"}, token)["data"]["placeOrder"]["errors"] == []

    # when they try 6 more
    cart = new_cart(client, [{"sku": "CUP-1", "quantity": 1}], token)["id"]
    answer = post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 6}]}, token)["data"]["addCartLines"]

    # then 4 are left in the window
    assert [(v["code"], v["limit"], v["requested"], v["allowed"], v["window"]) for v in answer["violations"]] == [
        ("MMOQ_ABOVE_30D_MAX", 10, 6, 4, "ROLLING_30_DAYS")]
    assert post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 4}]}, token
                )["data"]["addCartLines"]["errors"] == []

    # and a cancelled order, or one older than the window, no longer counts
    def age(session):
        order = session.exec(select(Order)).one()
        order.created_at = utcnow() - timedelta(days=31)
        session.add(order)

    app.extensions["vectis.db"].run(age)
    assert post(client, ADD_V, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 6}]}, token
                )["data"]["addCartLines"]["errors"] == []


def test_cart_bulk_lookup_answers_each_row_and_writes_nothing(app, client):
    store(app)
    ladder(app, {"box": 12, "case": 144})
    variant_caps(app, display_unit="box")
    publish(app, client, CAP.format(increment=12))
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 1, "package": "box"}])["id"]
    before = cart_state(app)
    input_rows = [{"sku": "MUG-1", "quantity": 2, "package": "box", "multiplier": 10},
                  {"sku": "CUP-1", "quantity": 3},
                  {"sku": "NOPE-9", "quantity": 1},
                  {"sku": "MUG-1", "quantity": 1, "package": "crate"},
                  {"sku": "CUP-1", "quantity": -1}]

    answer = post(client, LOOKUP, {"input": {"cartId": cart, "rows": input_rows}})["data"]["cartBulkLookup"]

    got = [(r["index"], r["variant"] and r["variant"]["sku"], r["package"], r["packageHint"], r["multiplier"],
            r["baseQuantity"], r["unitChanged"], r["unitPrice"] and r["unitPrice"]["amount"],
            [e["code"] for e in r["errors"]], [(v["code"], v["requested"]) for v in r["violations"]])
           for r in answer["rows"]]
    assert got == [
        (0, "MUG-1", "box", "box", 12, 24, True, "96.00", [], []),
        (1, "CUP-1", None, None, 1, 3, False, "4.50", [], []),
        (2, None, None, None, None, None, False, None, ["NOT_FOUND"], []),
        (3, "MUG-1", "crate", "box", None, None, False, None, ["UNKNOWN_PACKAGE"], []),
        (4, "CUP-1", None, None, 1, None, False, None, ["INVALID_QUANTITY"], []),
    ]
    assert answer["errors"] == []
    assert cart_state(app) == before

    # without a cart: the caller's prices in the request's channel, the rows alone
    alone = post(client, LOOKUP, {"input": {"rows": [{"sku": "MUG-1", "quantity": 24}]}})["data"]["cartBulkLookup"]
    assert [(r["unitPrice"]["amount"], r["packageHint"], r["violations"]) for r in alone["rows"]] == [
        ("8.00", "box", [])]

    # the cart's box counts with the rows: 12 + 6 loose breaks the increment
    answer = post(client, LOOKUP, {"input": {"cartId": cart, "rows": [{"sku": "MUG-1", "quantity": 6}]}}
                  )["data"]["cartBulkLookup"]
    assert [(v["code"], v["requested"], v["allowed"]) for v in answer["rows"][0]["violations"]] == [
        ("MMOQ_NOT_INCREMENT", 18, 24)]


def test_bulk_add_adds_the_rows_that_pass_and_reports_each_failed_row(app, client):
    store(app)
    variant_caps(app, min_quantity=5)
    cart = new_cart(client)["id"]

    answer = post(client, BULK_ADD, {"id": cart, "rows": [{"sku": "CUP-1", "quantity": 2},
                                                          {"sku": "MUG-1", "quantity": 2},
                                                          {"sku": "NOPE-9", "quantity": 1}]})["data"]["bulkAddToCart"]

    assert answer["errors"] == []
    assert [(l["variant"]["sku"], l["quantity"]) for l in answer["cart"]["lines"]] == [("CUP-1", 2)]
    assert answer["added"] == [{"index": 0, "sku": "CUP-1"}]
    assert answer["failed"] == [
        {"index": 1, "sku": "MUG-1", "errors": [], "violations": [{"code": "MMOQ_BELOW_MIN"}]},
        {"index": 2, "sku": "NOPE-9", "errors": [{"code": "NOT_FOUND", "field": "input.rows.2.sku"}], "violations": []}]
    assert answer["violations"] == [{"code": "MMOQ_BELOW_MIN"}]


def test_concurrent_orders_of_one_customer_never_exceed_the_30_day_cap(app, client, backend):
    # PostgreSQL: placeOrder locks the customer's row before counting the window.
    if backend != "postgres":
        pytest.skip("row locks are PostgreSQL's; SQLite serializes writers")
    store(app)
    token = customer(app, client)
    carts = [ready_cart(client, token, quantity=6) for _ in range(4)]
    variant_caps(app, max_per_customer_30d=10)
    results, barrier = [], threading.Barrier(len(carts))

    def call(cart: str) -> None:
        local = app.test_client()
        barrier.wait()
        results.append(post(local, PLACE_V, {"id": cart, "key": f"k-{cart[:8]}"}, token)["data"]["placeOrder"])

    threads = [threading.Thread(target=call, args=(cart,)) for cart in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(bool(r["order"]) for r in results) == [False, False, False, True]
    assert sorted(e["code"] for r in results for e in r["errors"]) == ["MMOQ_ABOVE_30D_MAX"] * 3
    assert len(rows(app, Order)) == 1
