"""Packaging units over GraphQL: lines per package priced at the variant's base units, an unknown
package refused with nothing changed, packages carried onto order lines, and reorder keeping the
package and flagging a ladder that changed since."""
from __future__ import annotations

from sqlmodel import select

from runtime.carts.models import CartLine
from runtime.catalog.models import ProductVariant
from runtime.orders.models import Order
from runtime.packaging import service as packaging
from tests.runtime.test_carts_api import ADD, ERRORS, cart_state, customer, new_cart, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart

LINES = "lines { quantity package packageMultiplier baseQuantity unitPrice { amount } lineTotal { amount } variant { sku } }"
ADD_PACKED = (f"mutation($id: ID!, $lines: [CartLineInput!]!) {{ addCartLines(cartId: $id, lines: $lines) {{"
              f" cart {{ subtotal {{ amount }} {LINES} }} {ERRORS} }} }}")
ORDER_LINES = ("mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) {"
               " order { id lines { sku quantity package packageMultiplier baseQuantity unitPrice { amount } } } "
               + ERRORS + " } }")
REORDER = ("mutation($id: ID!) { reorder(orderId: $id) { cart { id " + LINES + " }"
           " lines { sku quantity package previousMultiplier multiplier unitChanged error { code field message } }"
           " violations { code } " + ERRORS + " } }")


def ladder(app, rungs: dict[str, int], sku: str = "MUG-1") -> None:
    """Packages ``box``/``case`` defined and the product of ``sku`` given ``rungs``."""
    def work(session):
        for slug in ("each", "box", "case"):
            packaging.define_package(session, slug, slug.title())
        product_id = session.exec(select(ProductVariant.product_id).where(ProductVariant.sku == sku)).one()
        packaging.set_ladder(session, product_id, [{"package": slug, "multiplier": n} for slug, n in rungs.items()])

    app.extensions["vectis.db"].run(work)


def test_lines_per_package_are_priced_at_the_variants_base_units_together(app, client):
    # given MUG-1 (channel list 9.00, from 10 pieces 8.00) sold in boxes of 12
    store(app)
    ladder(app, {"each": 1, "box": 12})
    cart = new_cart(client)["id"]

    # when 2 boxes and 6 loose mugs are added (30 base units: the 10-piece tier)
    answer = post(client, ADD_PACKED, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 2, "package": "box"},
                                                             {"sku": "MUG-1", "quantity": 6},
                                                             {"sku": "MUG-1", "quantity": 1, "package": "box"}]})
    result = answer["data"]["addCartLines"]

    # then one line per package, each priced per package at 8.00 a piece
    assert result["errors"] == []
    assert [(l["package"], l["quantity"], l["packageMultiplier"], l["baseQuantity"], l["unitPrice"]["amount"],
             l["lineTotal"]["amount"]) for l in result["cart"]["lines"]] == [
        ("box", 3, 12, 36, "96.00", "288.00"), (None, 6, 1, 6, "8.00", "48.00")]
    assert result["cart"]["subtotal"]["amount"] == "336.00"


def test_an_unknown_package_is_refused_naming_the_field_and_nothing_changes(app, client):
    store(app)
    ladder(app, {"box": 12})
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 1}])["id"]
    before = cart_state(app)

    answer = post(client, ADD, {"id": cart, "lines": [{"sku": "CUP-1", "quantity": 1},
                                                      {"sku": "MUG-1", "quantity": 1, "package": "bxo"},
                                                      {"sku": "MUG-1", "quantity": 0, "package": "box"}]})

    assert answer["data"]["addCartLines"]["errors"] == [
        {"code": "INVALID_QUANTITY", "field": "lines.2.quantity",
         "message": "lines.2.quantity: expected a whole number of at least 1, got 0"}]
    answer = post(client, ADD, {"id": cart, "lines": [{"sku": "CUP-1", "quantity": 1},
                                                      {"sku": "MUG-1", "quantity": 1, "package": "bxo"}]})
    assert answer["data"]["addCartLines"]["errors"] == [
        {"code": "UNKNOWN_PACKAGE", "field": "lines.1.package",
         "message": "lines.1.package: 'MUG-1' has no package 'bxo' (packages: box) (did you mean 'box'?)"}]
    assert cart_state(app) == before


def test_a_package_on_a_product_without_a_ladder_is_refused(app, client):
    store(app)
    cart = new_cart(client)["id"]

    answer = post(client, ADD, {"id": cart, "lines": [{"sku": "CUP-1", "quantity": 1, "package": "box"}]})

    assert answer["data"]["addCartLines"]["errors"] == [
        {"code": "UNKNOWN_PACKAGE", "field": "lines.0.package",
         "message": "lines.0.package: 'CUP-1' has no package 'box' (packages: none: order it in base units)"}]
    assert rows(app, CartLine) == []


def test_order_lines_keep_the_package_and_reorder_flags_a_changed_ladder(app, client):
    # given a customer's order of 2 boxes (12) and 3 loose mugs
    store(app)
    ladder(app, {"box": 12, "case": 144})
    token = customer(app, client)
    cart = ready_cart(client, token, quantity=3)
    assert post(client, ADD, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 2, "package": "box"}]},
                token)["data"]["addCartLines"]["errors"] == []
    placed = post(client, ORDER_LINES, {"id": cart, "key": "k1"}, token)["data"]["placeOrder"]
    assert placed["errors"] == []
    assert [(l["package"], l["quantity"], l["packageMultiplier"], l["baseQuantity"], l["unitPrice"]["amount"])
            for l in placed["order"]["lines"]] == [(None, 3, 1, 3, "8.00"), ("box", 2, 12, 24, "96.00")]

    # when the box becomes 10 mugs and the order is reordered
    ladder(app, {"box": 10, "case": 144})
    answer = post(client, REORDER, {"id": placed["order"]["id"]}, token)["data"]["reorder"]

    # then the new cart keeps the box, and the line says its unit changed
    assert answer["errors"] == []
    assert [(l["sku"], l["package"], l["quantity"], l["previousMultiplier"], l["multiplier"], l["unitChanged"],
             l["error"]) for l in answer["lines"]] == [
        ("MUG-1", None, 3, 1, 1, False, None), ("MUG-1", "box", 2, 12, 10, True, None)]
    assert [(l["package"], l["quantity"], l["baseQuantity"]) for l in answer["cart"]["lines"]] == [
        (None, 3, 3), ("box", 2, 20)]
    assert answer["cart"]["id"] != cart


def test_reorder_leaves_out_a_package_that_left_the_ladder_and_a_foreign_order_is_not_found(app, client):
    store(app)
    ladder(app, {"box": 12})
    token = customer(app, client)
    cart = ready_cart(client, token, quantity=1)
    post(client, ADD, {"id": cart, "lines": [{"sku": "MUG-1", "quantity": 1, "package": "box"}]}, token)
    order = post(client, ORDER_LINES, {"id": cart, "key": "k1"}, token)["data"]["placeOrder"]["order"]
    ladder(app, {"case": 144})

    answer = post(client, REORDER, {"id": order["id"]}, token)["data"]["reorder"]
    assert [(l["package"], l["unitChanged"], l["error"] and l["error"]["code"]) for l in answer["lines"]] == [
        (None, False, None), ("box", False, "UNKNOWN_PACKAGE")]
    assert [(l["package"], l["quantity"]) for l in answer["cart"]["lines"]] == [(None, 1)]

    other = customer(app, client, "olga@example.test")
    carts_before = cart_state(app)
    foreign = post(client, REORDER, {"id": order["id"]}, other)["data"]["reorder"]
    assert foreign["errors"] == [{"code": "NOT_FOUND", "field": "orderId", "message": f"orderId: no order {order['id']}"}]
    assert foreign["cart"] is None
    assert cart_state(app) == carts_before
    assert len(rows(app, Order)) == 1


DEFINE = "mutation($slug: String!, $name: String!) { definePackage(slug: $slug, name: $name) { package { slug name } errors { code field message } } }"
SET = ("mutation($id: ID!, $packages: [ProductPackageInput!]!) { setProductPackages(productId: $id, packages: $packages) {"
       " packages { package multiplier } errors { code field message } } }")


def test_staff_define_packages_and_set_a_ladder_and_bad_input_changes_nothing(app, client):
    from runtime.catalog.models import Product
    from runtime.packaging.models import ProductPackage
    from tests.runtime.helpers import signed_in

    store(app)
    staff = signed_in(app, client, "catalog_manager")
    product = rows(app, Product, Product.slug == "mug")[0].id
    for slug, name in (("box", "Box"), ("case", "Case")):
        assert post(client, DEFINE, {"slug": slug, "name": name}, staff)["data"]["definePackage"]["errors"] == []

    answer = post(client, SET, {"id": str(product), "packages": [{"package": "case", "multiplier": 144},
                                                                 {"package": "box", "multiplier": 12}]}, staff)
    assert answer["data"]["setProductPackages"] == {
        "packages": [{"package": "box", "multiplier": 12}, {"package": "case", "multiplier": 144}], "errors": []}

    refused = post(client, SET, {"id": str(product), "packages": [{"package": "crate", "multiplier": 2},
                                                                  {"package": "box", "multiplier": 0}]}, staff)
    assert refused["data"]["setProductPackages"]["errors"] == [
        {"code": "UNKNOWN_PACKAGE", "field": "packages.0.package", "message": "packages.0.package: no package 'crate' (did you mean 'case'?)"},
        {"code": "INVALID_MULTIPLIER", "field": "packages.1.multiplier",
         "message": "packages.1.multiplier: expected a whole number from 1 to 1000000, got 0"}]
    assert sorted(r.multiplier for r in rows(app, ProductPackage)) == [12, 144]
    bad = post(client, DEFINE, {"slug": "Big Box", "name": ""}, staff)["data"]["definePackage"]
    assert [e["field"] for e in bad["errors"]] == ["slug", "name"]
    buyer = post(client, DEFINE, {"slug": "pallet", "name": "Pallet"})
    assert buyer["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")
