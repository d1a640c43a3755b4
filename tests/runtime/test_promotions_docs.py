"""Every GraphQL example of docs/promotions.md runs against the demo store as written: each
operation of each ```graphql block, in the order of the page, as a merchandiser in the web
channel, with ``$cartId`` a web cart of the demo (three pairs of work gloves and a hose)."""
from __future__ import annotations

import re
from pathlib import Path

from runtime.demo import load_demo
from runtime.setup import upgrade
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post

DOC = Path(__file__).resolve().parents[2] / "docs" / "promotions.md"
CREATE = "mutation($input: CreateCartInput!) { createCart(input: $input) { cart { id } errors { code message } } }"


def operations(markdown: str) -> list[str]:
    """The top-level operations of every ```graphql block (``#`` comments dropped)."""
    found = []
    for block in re.findall(r"```graphql\n(.*?)```", markdown, re.S):
        text = re.sub(r"\s+# [^\n]*", "", block)  # a comment, not the '#' of a code pattern
        depth, start = 0, 0
        for index, char in enumerate(text):
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    found.append(text[start:index + 1].strip())
                    start = index + 1
    return found


def test_the_doc_has_its_examples_and_the_splitter_finds_them():
    found = operations(DOC.read_text(encoding="utf-8"))
    assert len(found) >= 8
    assert all(re.match(r"^(query|mutation)\b", op) for op in found), found


def test_every_graphql_example_of_the_promotions_doc_runs_against_the_demo(app, client):
    list(upgrade(app))
    list(load_demo(app))
    staff = signed_in(app, client, "merchandiser")
    created = post(client, CREATE, {"input": {"email": "docs@demo.test", "lines": [
        {"sku": "DEMO-0005-S", "quantity": 3}, {"sku": "DEMO-0004-S", "quantity": 1}]}})["data"]["createCart"]
    assert created["errors"] == []
    cart_id = created["cart"]["id"]
    answers = []
    for operation in operations(DOC.read_text(encoding="utf-8")):
        variables = {"cartId": cart_id} if "$cartId" in operation else {}
        answer = post(client, operation, variables, staff)
        assert not answer.get("errors"), (operation, answer["errors"])
        for name, payload in answer["data"].items():
            if isinstance(payload, dict) and "errors" in payload:
                assert payload["errors"] == [], (operation, payload["errors"])
        answers.append(answer["data"])
    applied = next(a["applyCartCoupon"] for a in answers if "applyCartCoupon" in a)
    assert applied["cart"]["couponCodes"] == ["WELCOME10"]
    generated = next(a["generatePromotionCoupons"] for a in answers if "generatePromotionCoupons" in a)
    assert len(generated["codes"]) == 500 and all(re.match(r"^WEL-[A-Z2-9]{4}-[A-Z2-9]{4}$", c) for c in generated["codes"])
    listed = next(a["promotionCoupons"] for a in answers if "promotionCoupons" in a)
    assert listed["totalCount"] == 501  # WELCOME10 listed in the definition, and the 500
    explain = next(a["cart"]["promotionExplain"] for a in answers if "promotionExplain" in (a.get("cart") or {}))
    assert {x["promotion"]: x["applied"] for x in explain}["work_gloves_3_for_2"] is True
    hoses = next(a["products"]["nodes"] for a in answers if "products" in a)
    prices = [v["price"] for n in hoses for v in n["variants"]]
    assert prices and all(p["promotionLabel"] == "Watering sale −15%" for p in prices)
