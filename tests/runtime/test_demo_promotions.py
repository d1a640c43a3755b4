"""The demo store's promotions (examples/demo/definitions/promotions): each validates and passes
its examples, and a web cart of the loaded demo shows them over GraphQL."""
from __future__ import annotations

from pathlib import Path

from rules.pipeline import check_paths

from runtime.definitions.environment import build_environment
from runtime.demo import DEMO, load_demo
from runtime.setup import upgrade
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post

PROMOTIONS = DEMO / "definitions" / "promotions"
CREATE = ("mutation($input: CreateCartInput!) { createCart(input: $input) { cart { id } errors { code message } } }")
CART = ("query($id: ID!) { cart(id: $id) { subtotal { amount } discountTotal { amount } total { amount } "
        "lines { variant { sku } unitPrice { amount } discount { amount } discounts { label phase amount { amount } } } "
        "discounts { label phase amount { amount } couponCode } } }")
APPLY = ("mutation($id: ID!, $code: String!) { applyCartCoupon(cartId: $id, code: $code) { cart { couponCodes } "
         "errors { code message } } }")
EXPLAIN = "query($id: ID!) { cart(id: $id) { promotionExplain { promotion applied reason } } }"


def test_every_demo_promotion_validates_and_passes_its_examples(app):
    checked = check_paths([PROMOTIONS], build_environment(app.extensions["vectis.registry"]), origin="promotions")
    assert [str(error) for error in checked.errors] == []
    assert sorted(d.name for d in checked.definitions) == [
        "b2b_volume_fasteners", "free_shipping_over_75", "watering_sale", "welcome10", "work_gloves_3_for_2"]
    assert all(len(d.data["examples"]) >= 2 for d in checked.definitions)
    assert {Path(d.path).name for d in checked.definitions} == {p.name for p in PROMOTIONS.glob("*.yaml")}


def test_a_web_cart_of_the_demo_shows_the_sale_the_3_for_2_and_welcome10(app, client):
    list(upgrade(app))
    list(load_demo(app))
    created = post(client, CREATE, {"input": {"email": "shopper@demo.test", "lines": [
        {"sku": "DEMO-0005-S", "quantity": 3}, {"sku": "DEMO-0004-S", "quantity": 1},
        {"sku": "DEMO-0001-S", "quantity": 1}]}})["data"]["createCart"]
    assert created["errors"] == []
    cart_id = created["cart"]["id"]
    cart = post(client, CART, {"id": cart_id})["data"]["cart"]
    # web-eur list prices: 15.19, 15.19, 56.99; the third pair of gloves is free; the hose 15 % off
    assert [(x["variant"]["sku"], x["unitPrice"]["amount"], x["discount"]["amount"]) for x in cart["lines"]] == [
        ("DEMO-0005-S", "15.19", "15.19"), ("DEMO-0004-S", "15.19", "2.28"), ("DEMO-0001-S", "56.99", "0.00")]
    assert cart["lines"][1]["discounts"] == [{"label": "Watering sale −15%", "phase": "catalog", "amount": {"amount": "2.28"}}]
    assert (cart["subtotal"], cart["discountTotal"]) == ({"amount": "117.75"}, {"amount": "17.47"})
    applied = post(client, APPLY, {"id": cart_id, "code": "welcome10"})["data"]["applyCartCoupon"]
    assert applied == {"cart": {"couponCodes": ["WELCOME10"]}, "errors": []}
    cart = post(client, CART, {"id": cart_id})["data"]["cart"]
    # 10 % of what is left after the line phases: 30.38 + 12.91 + 56.99 = 100.28 → 10.03
    assert {"label": "Welcome — 10% off", "phase": "order", "amount": {"amount": "10.03"},
            "couponCode": "WELCOME10"} in cart["discounts"]
    assert cart["discountTotal"] == {"amount": "27.50"}
    staff = signed_in(app, client, "merchandiser")
    explain = {x["promotion"]: (x["applied"], x["reason"])
               for x in post(client, EXPLAIN, {"id": cart_id}, staff)["data"]["cart"]["promotionExplain"]}
    assert explain == {"watering_sale": (True, None), "work_gloves_3_for_2": (True, None), "welcome10": (True, None),
                       "b2b_volume_fasteners": (False, "OUT_OF_SCOPE"),
                       "free_shipping_over_75": (False, "NOTHING_TO_DISCOUNT")}
