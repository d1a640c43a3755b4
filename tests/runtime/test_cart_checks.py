"""The cart_check slot: registered checks run in every line change and may refuse it."""
from __future__ import annotations

from runtime.carts.checks import CartCheck, register_check
from runtime.errors import BusinessError
from tests.runtime.test_carts_api import ADD, CREATE, REMOVE, UPDATE, cart_state, line_ids, new_cart, post, store


def test_checks_run_in_order_on_every_line_change_and_a_refusal_changes_nothing(app, client):
    store(app)
    seen = []

    def limit(change):
        seen.append((change.change, sorted((line.quantity for line in change.lines))))
        if any(line.quantity > 20 for line in change.lines):
            raise BusinessError("TOO_MANY", "lines: at most 20 of a variant", field="lines")

    register_check(app, CartCheck("limit", 50, limit), pack="test")
    register_check(app, CartCheck("first", 10, lambda change: seen.append(("first", change.cart.id is not None))),
                   pack="test")
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}])
    post(client, ADD, {"id": cart["id"], "lines": [{"sku": "CUP-1", "quantity": 1}]})
    lines = line_ids(client, cart["id"])
    post(client, UPDATE, {"id": cart["id"], "line": lines["MUG-1"], "q": 3})
    post(client, REMOVE, {"id": cart["id"], "line": lines["CUP-1"]})
    assert seen == [("first", True), ("created", [2]), ("first", True), ("line_added", [1, 2]),
                    ("first", True), ("line_updated", [1, 3]), ("first", True), ("line_removed", [3])]
    before = cart_state(app)
    refused = post(client, ADD, {"id": cart["id"], "lines": [{"sku": "MUG-1", "quantity": 18}]})["data"]["addCartLines"]
    assert refused["errors"] == [{"code": "CHECKOUT_FAILED", "field": "lines", "message": "lines: at most 20 of a variant"}]
    assert cart_state(app) == before
    created = post(client, CREATE, {"input": {"lines": [{"sku": "MUG-1", "quantity": 21}]}})["data"]["createCart"]
    assert created["cart"] is None and created["errors"][0]["code"] == "CHECKOUT_FAILED"
    assert cart_state(app) == before
