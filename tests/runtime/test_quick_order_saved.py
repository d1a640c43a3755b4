"""Bulk cart line operations over GraphQL: removing and saving several lines with an outcome per
id, saved lines keeping their package, restore re-pricing and re-checking caps and stock (holds
released on save and taken again on restore), and refusals that change nothing."""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select

from runtime.catalog.models import ProductVariant
from runtime.events.models import OutboxEvent
from runtime.quick_order.models import CartSavedLine
from tests.runtime.test_carts_api import ERRORS, cart_state, customer, new_cart, post, rows, store
from tests.runtime.test_inventory import states, stock, tracked_store
from tests.runtime.test_packaging_api import ladder

CART_FIELDS = ("lines { id quantity package unitPrice { amount } variant { sku } } subtotal { amount } version"
               " savedForLater { id quantity package packageMultiplier variant { sku } }")
OUTCOMES = "results { lineId ok savedLine { quantity package } errors { code field message } }"
REMOVE = (f"mutation($id: ID!, $ids: [ID!]!) {{ bulkRemoveCartLines(cartId: $id, lineIds: $ids) {{"
          f" cart {{ {CART_FIELDS} }} {OUTCOMES} {ERRORS} }} }}")
SAVE = (f"mutation($id: ID!, $ids: [ID!]!) {{ bulkSaveCartLinesForLater(cartId: $id, lineIds: $ids) {{"
        f" cart {{ {CART_FIELDS} }} {OUTCOMES} {ERRORS} }} }}")
RESTORE = (f"mutation($id: ID!, $saved: ID!) {{ restoreSavedCartLine(cartId: $id, savedLineId: $saved) {{"
           f" cart {{ {CART_FIELDS} }} line {{ quantity package packageMultiplier }} unitChanged previousMultiplier"
           f" multiplier violations {{ code sku limitName }} {ERRORS} }} }}")
CART = f"query($id: ID!) {{ cart(id: $id) {{ {CART_FIELDS} }} }}"


def lines_of(client, cart: str) -> dict[tuple[str, str | None], str]:
    found = post(client, CART, {"id": cart})["data"]["cart"]["lines"]
    return {(line["variant"]["sku"], line["package"]): line["id"] for line in found}


def saved_state(app):
    return [(r.cart_id, r.variant_id, r.quantity, r.package_slug, r.package_multiplier) for r in rows(app, CartSavedLine)]


def test_bulk_remove_answers_each_id_and_removes_the_valid_ones_in_one_change(app, client):
    store(app)
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}, {"sku": "CUP-1", "quantity": 1}])["id"]
    ids = lines_of(client, cart)
    events = len(rows(app, OutboxEvent))

    answer = post(client, REMOVE, {"id": cart, "ids": [ids[("CUP-1", None)], "999999", "x1", ids[("CUP-1", None)]]}
                  )["data"]["bulkRemoveCartLines"]

    assert answer["errors"] == []
    assert answer["results"] == [
        {"lineId": ids[("CUP-1", None)], "ok": True, "savedLine": None, "errors": []},
        {"lineId": "999999", "ok": False, "savedLine": None, "errors": [
            {"code": "NOT_FOUND", "field": "lineIds.1", "message": "lineIds.1: the cart has no line '999999'"}]},
        {"lineId": "x1", "ok": False, "savedLine": None, "errors": [
            {"code": "NOT_FOUND", "field": "lineIds.2", "message": "lineIds.2: no such id 'x1'"}]},
        {"lineId": ids[("CUP-1", None)], "ok": False, "savedLine": None, "errors": [
            {"code": "INVALID_INPUT", "field": "lineIds.3", "message": f"lineIds.3: line '{ids[('CUP-1', None)]}' is named twice"}]}]
    assert [(l["variant"]["sku"], l["quantity"]) for l in answer["cart"]["lines"]] == [("MUG-1", 2)]
    assert (answer["cart"]["subtotal"]["amount"], answer["cart"]["version"]) == ("18.00", 2)
    assert [e.payload["change"] for e in rows(app, OutboxEvent)[events:]] == ["line_removed"]


def test_bulk_operations_refused_as_a_whole_change_nothing(app, client):
    # given a customer's cart
    store(app)
    token = customer(app, client)
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}], token)["id"]
    line = post(client, CART, {"id": cart}, token)["data"]["cart"]["lines"][0]["id"]
    before = cart_state(app), saved_state(app)

    empty = post(client, SAVE, {"id": cart, "ids": []}, token)["data"]["bulkSaveCartLinesForLater"]
    many = post(client, REMOVE, {"id": cart, "ids": [str(i) for i in range(501)]}, token)["data"]["bulkRemoveCartLines"]
    foreign = post(client, SAVE, {"id": cart, "ids": [line]})["data"]["bulkSaveCartLinesForLater"]  # a guest

    assert empty == {"cart": None, "results": [], "errors": [
        {"code": "INVALID_INPUT", "field": "lineIds", "message": "lineIds: give at least one line id"}]}
    assert many["errors"] == [{"code": "INVALID_INPUT", "field": "lineIds",
                               "message": "lineIds: at most 500 ids per call, got 501"}]
    assert foreign["errors"] == [{"code": "NOT_FOUND", "field": "cartId", "message": f"cartId: no cart {cart!r}"}]
    assert (cart_state(app), saved_state(app)) == before


def test_saved_lines_keep_their_package_and_restore_priced_again_with_unit_changed(app, client):
    # given mugs in boxes of 12 and a cart with 2 boxes and 3 loose mugs
    store(app)
    ladder(app, {"each": 1, "box": 12})
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2, "package": "box"}, {"sku": "MUG-1", "quantity": 3}])["id"]
    ids = lines_of(client, cart)

    # when the boxes are saved for later
    saved = post(client, SAVE, {"id": cart, "ids": [ids[("MUG-1", "box")]]})["data"]["bulkSaveCartLinesForLater"]

    # then the cart holds the loose mugs only, priced for 3, and the saved line keeps its package
    assert saved["errors"] == [] and saved["results"][0]["savedLine"] == {"quantity": 2, "package": "box"}
    assert [(l["variant"]["sku"], l["quantity"], l["package"], l["unitPrice"]["amount"])
            for l in saved["cart"]["lines"]] == [("MUG-1", 3, None, "9.00")]
    [entry] = saved["cart"]["savedForLater"]
    assert {k: v for k, v in entry.items() if k != "id"} == {"quantity": 2, "package": "box", "packageMultiplier": 12,
                                                             "variant": {"sku": "MUG-1"}}

    # when the ladder changes (a box now holds 10) and the line is restored
    ladder(app, {"each": 1, "box": 10})
    restored = post(client, RESTORE, {"id": cart, "saved": entry["id"]})["data"]["restoreSavedCartLine"]

    # then it is back in boxes, priced at the 10-piece tier for 23 base units, and unitChanged says so
    assert restored["errors"] == [] and restored["violations"] == []
    assert (restored["unitChanged"], restored["previousMultiplier"], restored["multiplier"]) == (True, 12, 10)
    assert restored["line"] == {"quantity": 2, "package": "box", "packageMultiplier": 10}
    assert sorted((l["quantity"], l["package"], l["unitPrice"]["amount"]) for l in restored["cart"]["lines"]) == [
        (2, "box", "80.00"), (3, None, "8.00")]
    assert restored["cart"]["savedForLater"] == [] and saved_state(app) == []

    # and restoring it again is NOT_FOUND
    again = post(client, RESTORE, {"id": cart, "saved": entry["id"]})["data"]["restoreSavedCartLine"]
    assert again["errors"] == [{"code": "NOT_FOUND", "field": "savedLineId",
                                "message": f"savedLineId: the cart has no saved line {entry['id']!r}"}]


def test_saving_releases_holds_and_restoring_takes_them_again_or_refuses_changing_nothing(app, client):
    # given a channel that holds at add-to-cart, 5 mugs in stock and a cart of 4
    tracked_store(app, on_hand=5, mode="add_to_cart")
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 4}])["id"]
    assert (stock(app), states(app)) == ((5, 4), [("held", 4, 0)])

    # when the line is saved for later, its hold is released
    saved = post(client, SAVE, {"id": cart, "ids": [lines_of(client, cart)[("MUG-1", None)]]}
                 )["data"]["bulkSaveCartLinesForLater"]
    assert saved["errors"] == [] and saved["cart"]["lines"] == []
    assert (stock(app), states(app)) == ((5, 0), [("released", 4, 0)])
    saved_id = saved["cart"]["savedForLater"][0]["id"]

    # when another buyer holds 2 meanwhile, restoring the 4 is refused and nothing changes
    other = new_cart(client, [{"sku": "MUG-1", "quantity": 2}])["id"]
    before = cart_state(app), saved_state(app), states(app)
    refused = post(client, RESTORE, {"id": cart, "saved": saved_id})["data"]["restoreSavedCartLine"]
    assert refused["cart"] is None and refused["unitChanged"] is False
    assert refused["errors"] == [{"code": "OUT_OF_STOCK", "field": "savedLineId",
                                  "message": "savedLineId: 4 of 'MUG-1' requested, 3 available"}]
    assert (cart_state(app), saved_state(app), states(app)) == before

    # when the other cart lets go, the restore holds the 4 again
    post(client, REMOVE, {"id": other, "ids": list(lines_of(client, other).values())})
    restored = post(client, RESTORE, {"id": cart, "saved": saved_id})["data"]["restoreSavedCartLine"]
    assert restored["errors"] == [] and restored["unitChanged"] is False
    assert (stock(app), states(app)[-1]) == ((5, 4), ("held", 4, 0))


def test_restore_rechecks_the_caps_and_answers_the_violation(app, client):
    store(app)
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}])["id"]
    saved = post(client, SAVE, {"id": cart, "ids": [lines_of(client, cart)[("MUG-1", None)]]}
                 )["data"]["bulkSaveCartLinesForLater"]
    app.extensions["vectis.db"].run(lambda session: session.execute(
        update(ProductVariant).where(ProductVariant.sku == "MUG-1").values(mmoq_min_quantity=5)))
    before = cart_state(app), saved_state(app)

    refused = post(client, RESTORE, {"id": cart, "saved": saved["cart"]["savedForLater"][0]["id"]}
                   )["data"]["restoreSavedCartLine"]

    assert refused["errors"] == [{"code": "MMOQ_BELOW_MIN", "field": "savedLineId", "message":
                                  "savedLineId: 'MUG-1': at least 5 units per order, 2 requested (the variant's own limit)"}]
    assert refused["violations"] == [{"code": "MMOQ_BELOW_MIN", "sku": "MUG-1", "limitName": "minQuantity"}]
    assert (cart_state(app), saved_state(app)) == before
    assert rows(app, CartSavedLine)[0].quantity == 2
