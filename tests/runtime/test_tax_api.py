"""Tax over GraphQL, end to end (issue 17's worked examples): a US destination with state, county,
city and special district; EU VAT inclusive for a consumer; EU reverse charge for a business with a
valid VAT number. Amounts to the cent, on the cart before checkout and on the placed order."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from runtime.accounts.models import Account
from runtime.orders.models import Order
from runtime.tax.importer import import_rates
from runtime.tax.models import ChannelTaxSettings, OrderTaxLine
from runtime.tax.service import set_channel_settings
from tests.runtime.helpers import recorded_statements, signed_in
from tests.runtime.test_carts_api import BILL_TO, ERRORS, METHOD, PAY, SHIP_TO, b2b, new_cart, post, rows, store

DEMO_CSV = Path(__file__).resolve().parents[2] / "examples" / "demo_store" / "tax_rates.csv"
SEATTLE = {"firstName": "Ada", "lastName": "Buyer", "line1": "400 Pine St", "postalCode": "98101", "city": "Seattle",
           "region": "WA", "country": "US"}
BERLIN = {"firstName": "Bea", "lastName": "Kundin", "line1": "Unter den Linden 1", "postalCode": "10115",
          "city": "Berlin", "country": "DE"}
CART = ("query($id: ID!) { cart(id: $id) { subtotal { amount } shippingTotal { amount } taxTotal { amount } "
        "total { amount } "
        "taxExplain { lineId taxClass rule taxes { jurisdiction level rate stage compound base amount { amount } } } } }")
PLACE = ("mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) { order { id "
         "subtotal { amount } shippingTotal { amount } taxTotal { amount } total { amount } "
         "taxLines { kind sku jurisdiction level rate stage taxClass base amount { amount } provider } } "
         f"{ERRORS} }} }}")
SETTINGS = ("mutation($slug: String!, $inclusive: Boolean, $rounding: String, $seller: String) { "
            "setChannelTaxSettings(channelSlug: $slug, pricesIncludeTax: $inclusive, rounding: $rounding, "
            "sellerCountry: $seller) { taxSettings { pricesIncludeTax rounding failurePolicy sellerCountry } "
            f"{ERRORS} }} }}")


def taxed_store(app, *, inclusive: bool = False, seller: str = "AT") -> dict:
    ids = store(app)

    def work(session):
        import_rates(session, DEMO_CSV)
        set_channel_settings(session, ids["channel"], prices_include_tax=inclusive, seller_country=seller)

    app.extensions["vectis.db"].run(work)
    return ids


def ready(client, address: dict, token=None) -> str:
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}], token, email="ada@example.test")["id"]
    for query, variables in ((SHIP_TO, {"input": {"address": address}}), (BILL_TO, {"input": {"address": address}}),
                             (METHOD, {"code": "standard"}), (PAY, {"input": {"token": "4242424242424242"}})):
        answer = post(client, query, {"id": cart, **variables}, token)
        assert list(answer["data"].values())[0]["errors"] == []
    return cart


def _amounts(lines):
    return [(line["jurisdiction"], line["amount"]["amount"]) for line in lines]


def test_seattle_state_county_city_and_district_to_the_cent(app, client):
    taxed_store(app)
    cart = ready(client, SEATTLE)

    shown = post(client, CART, {"id": cart})["data"]["cart"]
    placed = post(client, PLACE, {"id": cart, "key": "tax-us"})["data"]["placeOrder"]

    # 18.00 of mugs: 6.5 % 1.17, 0.2 % 0.036 → 0.04, 2.25 % 0.405 → 0.41, 1.4 % 0.252 → 0.25 (1.87);
    # shipping 4.90 is taxable in Washington: 0.3185 → 0.32, 0.0098 → 0.01, 0.11025 → 0.11, 0.0686 → 0.07 (0.51)
    assert shown["taxTotal"] == {"amount": "2.38"}
    assert shown["total"] == {"amount": "25.28"}  # the cart shows what placeOrder charges, tax included
    mugs, shipping = shown["taxExplain"]
    assert mugs["taxClass"] == "standard" and shipping["lineId"] == "shipping"
    assert [(t["jurisdiction"], t["level"], t["rate"], t["base"], t["amount"]["amount"]) for t in mugs["taxes"]] == [
        ("US-WA", "region", "0.065", "18.00", "1.17"), ("US-WA-KING", "county", "0.002", "18.00", "0.04"),
        ("US-WA-SEATTLE", "city", "0.0225", "18.00", "0.41"), ("US-WA-RTA", "district", "0.014", "18.00", "0.25")]
    assert placed["errors"] == []
    order = placed["order"]
    assert (order["subtotal"], order["shippingTotal"], order["taxTotal"], order["total"]) == (
        {"amount": "18.00"}, {"amount": "4.90"}, {"amount": "2.38"}, {"amount": "25.28"})
    assert [(t["kind"], t["sku"], t["jurisdiction"], t["amount"]["amount"]) for t in order["taxLines"]] == [
        ("line", "MUG-1", "US-WA", "1.17"), ("line", "MUG-1", "US-WA-KING", "0.04"),
        ("line", "MUG-1", "US-WA-SEATTLE", "0.41"), ("line", "MUG-1", "US-WA-RTA", "0.25"),
        ("shipping", None, "US-WA", "0.32"), ("shipping", None, "US-WA-KING", "0.01"),
        ("shipping", None, "US-WA-SEATTLE", "0.11"), ("shipping", None, "US-WA-RTA", "0.07")]
    assert {t["provider"] for t in order["taxLines"]} == {"core.tax_provider.table"}
    stored = rows(app, Order)[0]
    assert stored.pipeline["tax"]["jurisdictions"] == ["US-WA", "US-WA-KING", "US-WA-SEATTLE", "US-WA-RTA"]


def test_eu_inclusive_vat_for_a_consumer_is_extracted_and_the_buyer_pays_the_price(app, client):
    taxed_store(app, inclusive=True)
    cart = ready(client, BERLIN)

    shown = post(client, CART, {"id": cart})["data"]["cart"]
    placed = post(client, PLACE, {"id": cart, "key": "tax-eu"})["data"]["placeOrder"]

    # 18.00 contains 19 % VAT: 18.00 / 1.19 = 15.13 net, 2.87 VAT; shipping 4.90 contains 0.78
    order = placed["order"]
    assert placed["errors"] == []
    assert (order["taxTotal"], order["total"]) == ({"amount": "3.65"}, {"amount": "22.90"})
    assert (shown["taxTotal"], shown["total"]) == ({"amount": "3.65"}, {"amount": "22.90"})
    assert [(t["kind"], t["jurisdiction"], t["rate"], t["base"], t["amount"]["amount"]) for t in order["taxLines"]] == [
        ("line", "DE", "0.19", "15.13", "2.87"), ("shipping", "DE", "0.19", "4.12", "0.78")]


def _b2b_cart(app, client, vat_number: str) -> str:
    acme = b2b(app, client)

    def number(session):
        account = session.get(Account, acme["account"])
        account.tax_id = vat_number
        session.add(account)

    app.extensions["vectis.db"].run(number)
    return ready(client, BERLIN, acme["tokens"]["buyer@acme.test"]), acme["tokens"]["buyer@acme.test"]


def test_eu_reverse_charge_for_a_business_with_a_valid_vat_number(app, client):
    taxed_store(app, seller="AT")
    cart, buyer = _b2b_cart(app, client, "DE 987 654 321")

    shown = post(client, CART, {"id": cart}, buyer)["data"]["cart"]
    placed = post(client, PLACE, {"id": cart, "key": "tax-rc"}, buyer)["data"]["placeOrder"]

    assert shown["taxTotal"] == {"amount": "0.00"} and shown["taxExplain"] == []
    assert placed["errors"] == []
    assert (placed["order"]["taxTotal"], placed["order"]["total"], placed["order"]["taxLines"]) == (
        {"amount": "0.00"}, {"amount": "22.90"}, [])
    assert rows(app, Order)[0].pipeline["tax"]["reverse_charge"] is True


def test_a_malformed_vat_number_pays_the_destination_vat(app, client):
    taxed_store(app, seller="AT")
    cart, buyer = _b2b_cart(app, client, "DE12345")

    placed = post(client, PLACE, {"id": cart, "key": "tax-b2b"}, buyer)["data"]["placeOrder"]

    # 19 % of 18.00 is 3.42, of 4.90 is 0.931 → 0.93
    assert (placed["order"]["taxTotal"], placed["order"]["total"]) == ({"amount": "4.35"}, {"amount": "27.25"})
    assert rows(app, Order)[0].pipeline["tax"]["reverse_charge"] is False


def test_an_unknown_region_refuses_the_checkout_and_changes_nothing(app, client):
    taxed_store(app)
    cart = ready(client, {**SEATTLE, "region": "ZZ"})
    shown = post(client, CART, {"id": cart})["data"]["cart"]

    placed = post(client, PLACE, {"id": cart, "key": "tax-bad"})["data"]["placeOrder"]

    assert (shown["taxTotal"], shown["taxExplain"]) == ({"amount": "0.00"}, [])
    assert placed["order"] is None
    assert placed["errors"] == [{"code": "TAX_ADDRESS_INVALID", "field": "shippingAddress.region",
                                 "message": "shippingAddress.region: 'US-ZZ' is not a region of US"}]
    assert rows(app, Order) == [] and rows(app, OrderTaxLine) == []


def test_channel_tax_settings_need_channels_manage_and_refuse_bad_values(app, client):
    store(app)
    admin = signed_in(app, client, "admin")

    bad = post(client, SETTINGS, {"slug": "web", "rounding": "nearest"}, admin)["data"]["setChannelTaxSettings"]
    good = post(client, SETTINGS, {"slug": "web", "inclusive": True, "rounding": "total", "seller": "at"},
                admin)["data"]["setChannelTaxSettings"]
    anonymous = post(client, SETTINGS, {"slug": "web", "inclusive": False})

    assert bad == {"taxSettings": None, "errors": [{"code": "INVALID_TAX_SETTINGS", "field": "rounding",
                                                    "message": "rounding: expected one of line, total, got 'nearest'"}]}
    assert good == {"taxSettings": {"pricesIncludeTax": True, "rounding": "total", "failurePolicy": "refuse",
                                    "sellerCountry": "AT"}, "errors": []}
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert [(s.prices_include_tax, s.rounding) for s in rows(app, ChannelTaxSettings)] == [(True, "total")]


PUBLISH = ("mutation($source: String!) { publishDefinition(source: $source) { definition { revision } "
           "errors { code message } } }")
MUGS_REDUCED = """kind: tax_rule
name: mugs_reduced
description: Mugs take the reduced rate (a test rule).
when: {line.sku: MUG-1}
set: {tax_class: reduced}
examples:
  - given: {line: {sku: MUG-1}}
    expect: {applies: true, tax_class: reduced}
"""


def test_a_published_tax_rule_sets_the_class_and_the_explain_and_order_name_it(app, client):
    # Every request polls for new revisions, as a process does every definitions_poll_seconds.
    app.config["VECTIS"] = replace(app.config["VECTIS"], definitions_poll_seconds=0)
    taxed_store(app)
    merchandiser = signed_in(app, client, "merchandiser")
    published = post(client, PUBLISH, {"source": MUGS_REDUCED}, merchandiser)["data"]["publishDefinition"]
    assert published == {"definition": {"revision": 1}, "errors": []}
    cart = ready(client, BERLIN)

    shown = post(client, CART, {"id": cart})["data"]["cart"]
    placed = post(client, PLACE, {"id": cart, "key": "tax-rule"})["data"]["placeOrder"]

    # mugs 7 % of 18.00 = 1.26; shipping stays standard: 19 % of 4.90 = 0.931 → 0.93
    assert shown["taxTotal"] == {"amount": "2.19"}
    assert [(e["taxClass"], e["rule"], [t["rate"] for t in e["taxes"]]) for e in shown["taxExplain"]] == [
        ("reduced", "mugs_reduced@1", ["0.07"]), ("standard", None, ["0.19"])]
    assert [(t["kind"], t["taxClass"], t["amount"]["amount"]) for t in placed["order"]["taxLines"]] == [
        ("line", "reduced", "1.26"), ("shipping", "standard", "0.93")]
    assert rows(app, OrderTaxLine)[0].rule == "mugs_reduced@1"


def test_staff_list_orders_with_their_tax_lines_in_one_statement(app, client):
    taxed_store(app)
    for key in ("list-1", "list-2", "list-3"):
        assert post(client, PLACE, {"id": ready(client, SEATTLE), "key": key})["data"]["placeOrder"]["errors"] == []
    staff = signed_in(app, client, "sales")
    statements = {}

    for fields in ("id", "id taxLines { jurisdiction amount { amount } }"):
        with recorded_statements(app.extensions["vectis.db"]) as statements[fields]:
            listed = post(client, f"{{ orders(first: 50) {{ nodes {{ {fields} }} }} }}", {}, staff)["data"]["orders"]["nodes"]

    assert len(listed) == 3 and all(len(node["taxLines"]) == 8 for node in listed)
    assert len(statements[fields]) == len(statements["id"]) + 1
