"""The modifyOrder example of docs/payments.md runs against the demo store as written: Acme Tools'
buyer orders one of a product on the b2b channel (authorise-only, paid with the location's saved
card), and the demo's sales staff raises the line to three; ``$orderId`` is that order, ``$sku``
its product's; the channel setting runs as staff with ``channels.manage``."""
from __future__ import annotations

from pathlib import Path

from examples.client.checkout import (M_BILLING, M_CREATE_CART, M_METHOD, M_PAYMENT, M_PLACE, M_SHIPPING, Q_PRODUCTS,
                                      Q_SAVED_CARDS, Q_VIEWER)
from runtime.demo import load_demo
from runtime.setup import upgrade
from tests.runtime.helpers import login, signed_in
from tests.runtime.test_approvals_tenders_docs import BUYER, b2b, section
from tests.runtime.test_promotions_docs import operations

DOC = Path(__file__).resolve().parents[2] / "docs" / "payments.md"
SECTION = "## Modifying an order: `modifyOrder`"
SALES = ("sales@demo.vectis.dev", "demo-sales-password")


def demo_order(client, buyer: str) -> tuple[str, str]:
    product = next(p for p in b2b(client, Q_PRODUCTS, {"search": "Screws"}, buyer)["nodes"] if p["variants"])
    variant = product["variants"][0]
    location = b2b(client, Q_VIEWER, {}, buyer)["employee"]["location"]
    card = b2b(client, Q_SAVED_CARDS, {"locationId": location["id"]}, buyer)[0]
    cart = b2b(client, M_CREATE_CART, {"input": {"lines": [{"variantId": variant["id"], "quantity": 1}],
                                                 "locationId": location["id"]}}, buyer)["cart"]
    address = {"addressId": location["addresses"][0]["id"]}
    b2b(client, M_SHIPPING, {"cartId": cart["id"], "input": address}, buyer)
    methods = b2b(client, M_BILLING, {"cartId": cart["id"], "input": address}, buyer)["cart"]["availableShippingMethods"]
    b2b(client, M_METHOD, {"cartId": cart["id"], "code": methods[0]["code"]}, buyer)
    b2b(client, M_PAYMENT, {"cartId": cart["id"], "input": {"savedPaymentMethodId": card["id"]}}, buyer)
    order = b2b(client, M_PLACE, {"cartId": cart["id"], "key": "docs-modify"}, buyer)["order"]
    return order["id"], variant["sku"]


def test_the_modify_example_runs_against_the_demo(app, client):
    list(upgrade(app))
    list(load_demo(app))
    order_id, sku = demo_order(client, login(client, *BUYER))
    found = operations(section(DOC.read_text(encoding="utf-8"), SECTION))
    assert [op.split("(")[0] for op in found] == ["mutation Modify", "mutation { setChannelOrderModification"]

    answer = b2b(client, found[0], {"orderId": order_id, "sku": sku}, login(client, *SALES))["order"]

    assert answer["lines"] == [{"sku": sku, "quantity": 3}]
    assert [t["state"] for t in answer["tenders"]] == ["authorized"]
    versions = answer["versions"]
    assert [(v["version"], v["actor"], v["reason"]) for v in versions] == [
        (1, "system:placed", "as placed"), (2, SALES[0], "the buyer called: two more")]
    assert answer["total"]["amount"] == answer["tenders"][0]["amount"]["amount"] != versions[0]["total"]["amount"]
    # staff with channels.manage let the web shop's buyers modify their own orders
    allowed = b2b(client, found[1], {}, signed_in(app, client, "admin"))
    assert allowed == {"channel": {"slug": "web"}, "errors": []}
