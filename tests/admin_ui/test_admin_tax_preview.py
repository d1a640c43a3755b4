"""The tax_rule preview: a sample cart (rows, or a cart's id) shipped to an address, taxed line by
line under the live tax rules and with the draft, to the cent on the demo rate table; bad input
named by its field; nothing written."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from admin_ui.previews import tax_rule
from runtime.accounts.models import Account
from runtime.definitions.environment import build_environment
from runtime.definitions.store import check
from runtime.tax.importer import import_rates
from runtime.tax.models import ChannelTaxSettings, OrderTaxLine, TaxRate
from runtime.tax.service import set_channel_settings
from tests.admin_ui.helpers import publish, revisions, sign_in
from tests.runtime.test_carts_api import SHIP_TO, new_cart, post as gql, store
from tests.runtime.test_tax_api import DEMO_CSV, SEATTLE

#: Live: mugs shipped to Washington are exempt.
LIVE = """kind: tax_rule
name: kitchen_wa
priority: 5
when:
  $and:
    - ship_to.region: US-WA
    - line.sku: MUG-1
set: {tax_class: exempt, exemption: {certificate: WA-TEST-1}}
examples:
  - given: {line: {sku: MUG-1}, ship_to: {country: US, region: US-WA}}
    expect: {applies: true, tax_class: exempt}
"""
#: The draft moves the exemption from mugs to cups.
DRAFT = LIVE.replace("line.sku: MUG-1", "line.sku: CUP-1").replace("{sku: MUG-1}", "{sku: CUP-1}")
PAGE = "/admin/definitions/tax_rule/kitchen_wa"
WA = {"ship_country": "US", "ship_region": "WA", "ship_postal_code": "98101", "ship_city": "Seattle"}


def post(client, path, token, **form):
    return client.post(path, data={"csrf_token": token, **form})


@pytest.fixture
def taxed(app):
    ids = store(app)

    def work(session):
        import_rates(session, DEMO_CSV)
        set_channel_settings(session, ids["channel"], seller_country="AT")

    app.extensions["vectis.db"].run(work)
    publish(app, LIVE)
    return ids


def cells(page: str) -> dict[str, tuple]:
    """SKU → (live class, live tax, draft class, draft tax, difference) of each table row."""
    found = {}
    for sku, row in re.findall(r'<tr data-sku="([^"]+)" data-line="[^"]+">(.*?)</tr>', page, re.S):
        live = re.search(r'class="live"><div><code class="class">(\w+)</code>.*?<strong class="line-tax">([\d.]+)<', row, re.S)
        draft = re.search(r'class="draft"><div><code class="class">(\w+)</code>.*?<strong class="line-tax">([\d.]+)<', row, re.S)
        difference = re.search(r'class="difference">(-?[\d.]+)<', row).group(1)
        found[sku] = (*live.groups(), *draft.groups(), difference)
    return found


def test_a_sample_cart_is_taxed_line_by_line_with_the_draft_against_the_live_rules(app, client, taxed):
    token = sign_in(app, client, "merchandiser")
    response = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1",
                    tax_cart_rows="MUG-1 2\nCUP-1 1", **WA)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # MUG-1 2 × 9.00: 6.5 % 1.17, 0.2 % 0.04, 2.25 % 0.41, 1.4 % 0.25 = 1.87; CUP-1 4.50: 0.29 + 0.01 + 0.10 + 0.06
    assert cells(page) == {"MUG-1": ("exempt", "0.00", "standard", "1.87", "1.87"),
                           "CUP-1": ("standard", "0.46", "exempt", "0.00", "-0.46")}
    assert re.search(r'id="live-tax">0.46<', page) and re.search(r'id="draft-tax">1.87<', page)
    assert re.search(r'id="tax-difference">1.41<', page)
    assert re.search(r'id="live-total">22.96<', page) and re.search(r'id="draft-total">24.37<', page)
    assert [code for code in re.findall(r'class="jurisdiction" data-code="([^"]+)"', page)] == [
        "US-WA", "US-WA-KING", "US-WA-SEATTLE", "US-WA-RTA"]
    # each class is traced to the rule that set it: the live revision, or the draft
    assert "by kitchen_wa@1" in re.search(r'data-sku="MUG-1".*?class="live">(.*?)</td>', page, re.S).group(1)
    assert "by kitchen_wa@draft" in re.search(r'data-sku="CUP-1".*?class="draft">(.*?)</td>', page, re.S).group(1)
    assert "6.5 % of 18.00" in page and "✓ line.sku" in page
    assert revisions(app, "tax_rule", "kitchen_wa") == [(1, "someone@example.test", "test", True)]


def test_inclusive_vat_with_the_reduced_class_and_the_reverse_charge(app, client, taxed):
    reduced = DRAFT.replace("ship_to.region: US-WA", "ship_to.country: DE").replace(
        "set: {tax_class: exempt, exemption: {certificate: WA-TEST-1}}", "set: {tax_class: reduced}").replace(
        "ship_to: {country: US, region: US-WA}}\n    expect: {applies: true, tax_class: exempt}",
        "ship_to: {country: DE}}\n    expect: {applies: true, tax_class: reduced}")
    app.extensions["vectis.db"].run(lambda s: set_channel_settings(s, taxed["channel"], prices_include_tax=True))
    token = sign_in(app, client, "merchandiser")
    berlin = {"ship_country": "DE", "ship_postal_code": "10115", "ship_city": "Berlin"}
    page = post(client, PAGE, token, source=reduced, action="preview", base_revision="1",
                tax_cart_rows="MUG-1 2\nCUP-1 1", **berlin).get_data(as_text=True)
    # gross prices: 18.00 at 19 % holds 2.87; 4.50 at 19 % holds 0.72, at 7 % 0.29; the buyer pays 22.50 either way
    assert cells(page) == {"MUG-1": ("standard", "2.87", "standard", "2.87", "0.00"),
                           "CUP-1": ("standard", "0.72", "reduced", "0.29", "-0.43")}
    assert re.search(r'id="live-total">22.50<', page) and re.search(r'id="draft-total">22.50<', page)
    assert "prices include tax" in page
    # a German business with a valid VAT number: reverse charge, no VAT on either side
    app.extensions["vectis.db"].run(lambda s: s.add(Account(slug="gmbh", name="GmbH", tax_id="DE123456789")))
    page = post(client, PAGE, token, source=reduced, action="preview", base_revision="1", tax_buyer="gmbh",
                tax_cart_rows="CUP-1 1", **berlin).get_data(as_text=True)
    assert 'id="reverse-charge"' in page and cells(page) == {"CUP-1": ("standard", "0.00", "reduced", "0.00", "0.00")}


def test_a_cart_by_id_is_taxed_with_its_own_lines_and_address(app, client, taxed):
    cart = new_cart(client, [{"sku": "CUP-1", "quantity": 2}], email="ada@example.test")["id"]
    assert gql(client, SHIP_TO, {"id": cart, "input": {"address": SEATTLE}})["data"]["setCartShippingAddress"]["errors"] == []
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1",
                tax_cart_id=cart).get_data(as_text=True)
    # 9.00 of cups: 0.585 → 0.59, 0.018 → 0.02, 0.2025 → 0.20, 0.126 → 0.13
    assert list(cells(page).values()) == [("standard", "0.94", "exempt", "0.00", "-0.94")]
    assert f"cart {cart}" in page and "Ships to US, WA, 98101, Seattle" in page
    # a preview without a sample lists the recent carts by number (never by token); one is picked by it
    listed = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1").get_data(as_text=True)
    number = re.search(r'<tr data-cart="(\d+)"><td>\d+</td><td>1</td><td>active</td><td>US, WA, 98101, Seattle</td>',
                       listed).group(1)
    assert cart not in listed
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1",
                tax_cart_id=number).get_data(as_text=True)
    assert list(cells(page).values()) == [("standard", "0.94", "exempt", "0.00", "-0.94")]


def test_a_country_without_rates_is_taxed_nothing_and_says_so(app, client, taxed):
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", tax_cart_rows="CUP-1 1",
                ship_country="JP", ship_postal_code="100-0001").get_data(as_text=True)
    assert "no jurisdiction in the rate tables: nothing is taxed" in page
    assert cells(page) == {"CUP-1": ("standard", "0.00", "standard", "0.00", "0.00")}


def test_shipping_is_a_taxed_row_and_rounding_per_total_adds_up(app, client, taxed):
    app.extensions["vectis.db"].run(lambda s: set_channel_settings(s, taxed["channel"], rounding="total"))
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", tax_cart_rows="CUP-1 3",
                tax_shipping="4.90", **WA).get_data(as_text=True)
    assert "rounding per total" in page
    # each rate's exact sum over the cups (13.50) and shipping (4.90) rounded once: 6.5 % 1.196 → 1.20,
    # 0.2 % 0.0368 → 0.04, 2.25 % 0.414 → 0.41, 1.4 % 0.2576 → 0.26 (1.91), split back by the exact taxes
    assert cells(page) == {"CUP-1": ("standard", "1.40", "exempt", "0.00", "-1.40"),
                           "shipping": ("standard", "0.51", "standard", "0.51", "0.00")}
    assert re.search(r'id="live-tax">1.91<', page) and re.search(r'id="draft-tax">0.51<', page)
    assert re.search(r'id="live-total">20.31<', page) and re.search(r'id="draft-total">18.91<', page)


def test_the_date_opens_a_scheduled_draft(app, client, taxed):
    holiday = DRAFT.replace("priority: 5", "priority: 5\nschedule: {from: '2027-08-06T00:00:00-07:00', "
                                           "until: '2027-08-09T00:00:00-07:00'}")
    token = sign_in(app, client, "merchandiser")
    closed = post(client, PAGE, token, source=holiday, action="preview", base_revision="1", tax_cart_rows="CUP-1 1",
                  **WA).get_data(as_text=True)
    assert cells(closed)["CUP-1"] == ("standard", "0.46", "standard", "0.46", "0.00")
    opened = post(client, PAGE, token, source=holiday, action="preview", base_revision="1", tax_cart_rows="CUP-1 1",
                  tax_at="2027-08-07", **WA).get_data(as_text=True)
    assert cells(opened)["CUP-1"] == ("standard", "0.46", "exempt", "0.00", "-0.46")


@pytest.mark.parametrize("form, problems", [
    ({"tax_cart_rows": "MUG-1 1\nNOPE 2\nCUP-1 x", "ship_country": "XX", "tax_shipping": "-1", "tax_at": "soon"},
     ["tax_at: expected a date like 2027-08-07 or a time with a zone like 2027-08-07T12:00:00-07:00, got &#39;soon&#39;",
      "tax_shipping: expected 0 or more, got &#39;-1&#39;",
      "ship_country: &#39;XX&#39; is not an ISO 3166-1 country code",
      "tax_cart_rows: line 2: no variant with SKU &#39;NOPE&#39;",
      "tax_cart_rows: line 3: expected &#39;SKU quantity&#39; with a positive whole quantity, got &#39;CUP-1 x&#39;"]),
    ({"tax_cart_rows": "MUG-1 1", "ship_country": "US", "ship_region": "WA", "ship_postal_code": "981"},
     ["ship_postal_code: &#39;981&#39; is not a postal code of US (5 digits (or ZIP+4))"]),
    ({"tax_cart_rows": "MUG-1 1", "ship_country": "US", "ship_region": "ZZ", "ship_postal_code": "98101"},
     ["ship_region: &#39;US-ZZ&#39; is not a region of US"]),
    ({"tax_cart_rows": "MUG-1 1", "ship_country": "US", "ship_postal_code": "98101"},
     ["ship_region: required: US taxes by region"]),
    ({"tax_cart_rows": "MUG-1 1", "tax_channel": "nowhere", "tax_buyer": "ghost@example.test"},
     ["tax_channel: no channel &#39;nowhere&#39;", "tax_buyer: no customer with e-mail &#39;ghost@example.test&#39;",
      "ship_country: required (the address the sample is shipped to)"]),
    ({"tax_cart_rows": "MUG-1 99999999999999999999999", "ship_country": "DE"},
     ["tax_cart_rows: line 1: at most 1000000 per line, got 99999999999999999999999"]),
    ({"tax_cart_id": "no-such-cart", "tax_cart_rows": ""}, ["tax_cart_id: no cart &#39;no-such-cart&#39;"]),
    ({"tax_cart_id": "x", "tax_cart_rows": "MUG-1 1"}, ["tax_cart_id: give sample rows or a cart&#39;s id, not both"]),
])
def test_bad_sample_input_is_named_by_its_field_never_a_500(app, client, taxed, form, problems):
    token = sign_in(app, client, "merchandiser")
    response = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", **form)
    assert response.status_code == 200
    assert re.findall(r'<p class="refused">(.*?)</p>', response.get_data(as_text=True)) == problems


def test_the_preview_issues_only_selects(app, taxed):
    database = app.extensions["vectis.db"]
    env = build_environment(app.extensions["vectis.registry"])
    checked = check(DRAFT, env, "tax_rule/kitchen_wa")
    assert checked.ok, checked.errors
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def counts():
        with database.session() as s:
            return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                         for m in (TaxRate, ChannelTaxSettings, OrderTaxLine))

    before = counts()
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with app.test_request_context(), database.session() as s:
            live = app.extensions["vectis.definitions"].get("tax_rule", "kitchen_wa").compiled
            shown = tax_rule.preview(app, s, checked.definition.compiled, live, {"tax_cart_rows": "MUG-1 2", **WA})
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert shown["sample"]["totals"]["draft"]["tax"] == Decimal("1.87")
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    assert counts() == before


def test_viewers_may_preview_but_not_publish(app, client, taxed):
    token = sign_in(app, client, "viewer")
    assert 'name="tax_cart_rows"' in client.get(PAGE).get_data(as_text=True)
    page = post(client, PAGE, token, source=DRAFT, action="preview", base_revision="1", tax_cart_rows="CUP-1 1",
                **WA).get_data(as_text=True)
    assert re.search(r'id="draft-tax">0.00<', page)
    assert post(client, PAGE, token, source=DRAFT, action="publish", base_revision="1", note="mine").status_code == 403
    assert revisions(app, "tax_rule", "kitchen_wa") == [(1, "someone@example.test", "test", True)]


def test_a_new_tax_rule_is_previewed_against_the_live_rules(app, client, taxed):
    token = sign_in(app, client, "merchandiser")
    assert 'name="tax_cart_rows"' in client.get("/admin/definitions/new?kind=tax_rule").get_data(as_text=True)
    source = DRAFT.replace("name: kitchen_wa", "name: cups_wa").replace("priority: 5", "priority: 9")
    page = post(client, "/admin/definitions/new", token, kind="tax_rule", source=source, action="preview",
                tax_cart_rows="MUG-1 1\nCUP-1 1", **WA).get_data(as_text=True)
    assert "(cups_wa not published)" in page
    # the live kitchen_wa still exempts mugs on both sides; the draft adds cups
    assert cells(page) == {"MUG-1": ("exempt", "0.00", "exempt", "0.00", "0.00"),
                           "CUP-1": ("standard", "0.46", "exempt", "0.00", "-0.46")}
    assert revisions(app, "tax_rule", "cups_wa") == []
