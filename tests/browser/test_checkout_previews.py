"""The tax_rule and tender_cascade previews in headless chromium: a merchandiser rewrites a rule
(a cascade), previews it on a sample (a bad postal code is named first), sees the draft beside
the live revision, publishes, and the next cart taxed over GraphQL follows the new rule."""
from __future__ import annotations

import re
from dataclasses import replace

from tests.admin_ui.helpers import PASSWORD
from tests.admin_ui.test_admin_cascade_preview import TERMS_FIRST, payers  # noqa: F401 (a fixture)
from tests.admin_ui.test_admin_tax_preview import DRAFT, taxed  # noqa: F401 (a fixture)
from tests.browser.test_promotion_workbench import CREATE, graphql
from tests.browser.test_workbench import sign_in
from tests.runtime.helpers import make_user
from tests.runtime.test_carts_api import SHIP_TO
from tests.runtime.test_tax_api import SEATTLE

CART_TAX = "query($id: ID!) { cart(id: $id) { taxTotal { amount } taxExplain { lineId taxClass rule } } }"


def text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def cup_tax(page, server) -> tuple[str, list]:
    """A guest cart of one cup shipped to Seattle, taxed now."""
    cart = graphql(page, server, CREATE, {"input": {"email": "b@example.test", "lines": [{"sku": "CUP-1", "quantity": 1}]}})
    cart_id = cart["createCart"]["cart"]["id"]
    graphql(page, server, SHIP_TO, {"id": cart_id, "input": {"address": SEATTLE}})
    shown = graphql(page, server, CART_TAX, {"id": cart_id})["cart"]
    return shown["taxTotal"]["amount"], [(x["taxClass"], x["rule"]) for x in shown["taxExplain"]]


def test_tax_rule_preview_then_publish_moves_the_exemption(app, server, page, shots, taxed):  # noqa: F811
    app.config["VECTIS"] = replace(app.config["VECTIS"], definitions_poll_seconds=0)
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    sign_in(page, server, "merch@example.test")
    assert cup_tax(page, server) == ("0.46", [("standard", None)])

    page.goto(f"{server}/admin/definitions?kind=tax_rule")
    page.click("tr[data-name=kitchen_wa] a:has-text('kitchen_wa')")
    page.fill("#source", DRAFT)
    page.fill("textarea[name=tax_cart_rows]", "MUG-1 2\nCUP-1 1")
    for name, value in (("ship_country", "US"), ("ship_region", "WA"), ("ship_postal_code", "981"), ("ship_city", "Seattle")):
        page.fill(f"input[name={name}]", value)
    page.click("button[value=preview]")
    assert page.locator("#tax-sample .refused").all_inner_texts() == [
        "ship_postal_code: '981' is not a postal code of US (5 digits (or ZIP+4))"]

    page.fill("input[name=ship_postal_code]", "98101")
    page.click("button[value=preview]")
    mugs, cups = page.locator("tr[data-sku=MUG-1]"), page.locator("tr[data-sku=CUP-1]")
    assert text(mugs.locator("td.live")).startswith("exempt by kitchen_wa@1")
    assert text(mugs.locator("td.draft")).startswith("standard no rule") and text(mugs.locator("td.difference")) == "1.87"
    assert text(cups.locator("td.draft")).startswith("exempt by kitchen_wa@draft")
    assert page.locator("#live-tax").inner_text() == "0.46" and page.locator("#draft-tax").inner_text() == "1.87"
    assert page.locator("#tax-difference").inner_text() == "1.41"
    assert page.locator("#jurisdictions .jurisdiction").count() == 4
    shots(page, "tax-preview")

    page.fill("input[name=note]", "The exemption covers cups, not mugs")
    page.click("button[value=publish]")
    assert "Published tax_rule/kitchen_wa revision 2." in page.locator(".flash").inner_text()
    assert cup_tax(page, server) == ("0.00", [])  # an exempt line has no tax to explain


def test_tender_cascade_preview_shows_both_splits(app, server, page, shots, payers):  # noqa: F811
    make_user(app, "merch@example.test", ["merchandiser"], PASSWORD)
    sign_in(page, server, "merch@example.test")
    page.goto(f"{server}/admin/definitions?kind=tender_cascade")
    page.click("tr[data-name=b2b_store_credit_terms_card] a:has-text('b2b_store_credit_terms_card')")
    page.fill("#source", TERMS_FIRST)
    page.fill("input[name=cascade_total]", "1000,00")
    page.fill("input[name=cascade_buyer]", "acme")
    page.click("button[value=preview]")
    assert page.locator("#cascade-sample .refused").all_inner_texts() == [
        "cascade_total: expected a positive decimal like \"10.00\", got '1000,00'"]

    page.fill("input[name=cascade_total]", "1000.00")
    page.fill("textarea[name=cascade_prepended]", "gift_card 10.00")
    page.click("button[value=preview]")

    def legs(side: str) -> list[str]:
        return [text(li) for li in page.locator(f"#split-{side} ol.legs li").all()]

    assert page.locator("#split-live .cascade").inner_text() == "b2b_store_credit_terms_card@1"
    assert legs("live") == ["gift_card 10.00 buyer_prepended", "store_credit 300.00 cascade",
                            "net_terms 400.00 cascade", "card 290.00 cascade"]
    assert page.locator("#split-draft .cascade").inner_text() == "b2b_store_credit_terms_card@draft"
    assert legs("draft") == ["gift_card 10.00 buyer_prepended", "net_terms 400.00 cascade",
                             "store_credit 300.00 cascade", "card 290.00 cascade"]
    assert text(page.locator("#split-draft tr[data-tender=net_terms]")).startswith("net_terms 400.00 400.00 400.00")
    shots(page, "cascade-preview")
