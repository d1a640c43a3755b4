"""Issue 12, items 7–10: quantities, money and decimals, search input, idempotency key scope.
Each refusal has its code and message and changes nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from runtime.accounts.models import Account, Customer
from runtime.auth.models import User
from runtime.checkout import service as checkout_service
from runtime.carts.lines import MAX_CART_BASE_UNITS, MAX_LINE_BASE_UNITS
from runtime.catalog.models import Product
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.orders.models import Order
from runtime.payments import service as payments
from runtime.payments.models import PaymentTransaction
from runtime.search import MAX_SEARCH_CHARS, MAX_SEARCH_TERMS
from tests.runtime.helpers import gql, login, make_user, signed_in
from tests.runtime.test_carts_api import (ADD, CREATE, MY_CARTS, UPDATE, cart_state, customer, line_ids, new_cart, post,
                                          rows, store)
from tests.runtime.test_catalog_api import CREATE_PRODUCT, SHIRT, seed
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_orders_data import STAFF, events, live, shop  # noqa: F401  (fixtures)
from tests.runtime.test_packaging_api import ladder
from tests.runtime.test_payments import place_and_pay, table

# 7. quantities


def test_two_lines_of_2_147_483_647_are_refused_per_line_and_no_cart_is_made(app, client):
    store(app)

    answer = post(client, CREATE, {"input": {"lines": [{"sku": "MUG-1", "quantity": 2147483647},
                                                       {"sku": "CUP-1", "quantity": 2147483647}]}})["data"]["createCart"]

    assert answer == {"cart": None, "errors": [
        {"code": "INVALID_QUANTITY", "field": f"input.lines.{i}.quantity",
         "message": f"input.lines.{i}.quantity: at most {MAX_LINE_BASE_UNITS} per line, got 2147483647"} for i in (0, 1)]}
    assert cart_state(app) == ([], [], 0)


def test_a_large_package_counts_in_base_units_per_line(app, client):
    store(app)
    ladder(app, {"case": 144})
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 1}])
    before = cart_state(app)

    answer = post(client, ADD, {"id": cart["id"], "lines": [{"sku": "MUG-1", "quantity": 7000, "package": "case"}]})

    assert answer["data"]["addCartLines"]["errors"] == [
        {"code": "INVALID_QUANTITY", "field": "lines.0.quantity",
         "message": f"lines.0.quantity: 7000 × 144 is 1008000 base units; a line holds at most {MAX_LINE_BASE_UNITS}"}]
    assert cart_state(app) == before


def test_the_cart_total_of_base_units_is_bounded_and_item_count_stays_readable(app, client):
    store(app)
    ladder(app, {"each": 1, "box": 12, "case": 144})
    near = [{"sku": sku, "quantity": quantity, "package": package}
            for sku in ("MUG-1", "CUP-1") for package, quantity in (("each", 999_999), ("box", 83_333))]
    cart = new_cart(client, near)  # 4 lines, 3,999,990 base units: within both bounds
    assert cart["itemCount"] == 2 * (999_999 + 83_333)
    before = cart_state(app)

    more = post(client, ADD, {"id": cart["id"], "lines": [{"sku": sku, "quantity": 6944, "package": "case"}
                                                          for sku in ("MUG-1", "CUP-1")]})

    total = 2 * (999_999 + 83_333 * 12 + 6944 * 144)
    assert more["data"]["addCartLines"]["errors"] == [
        {"code": "INVALID_QUANTITY", "field": "lines",
         "message": f"lines: the cart would hold {total} base units; a cart holds at most {MAX_CART_BASE_UNITS}"}]
    assert cart_state(app) == before
    assert post(client, f'{{ cart(id: "{cart["id"]}") {{ itemCount }} }}')["data"]["cart"] == {
        "itemCount": 2 * (999_999 + 83_333)}


def test_a_line_update_past_the_bound_changes_nothing_and_my_carts_still_answers(app, client):
    store(app)
    cara = customer(app, client)
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": 2}], cara)
    line = line_ids(client, cart["id"], cara)["MUG-1"]
    before = cart_state(app)

    answer = post(client, UPDATE, {"id": cart["id"], "line": line, "q": 2147483647}, cara)["data"]["updateCartLine"]

    assert answer["errors"] == [{"code": "INVALID_QUANTITY", "field": "quantity",
                                 "message": f"quantity: at most {MAX_LINE_BASE_UNITS} per line, got 2147483647"}]
    assert cart_state(app) == before
    assert post(client, MY_CARTS, token=cara) == {"data": {"myCarts": [{"id": cart["id"]}]}}


# 8. money and decimals


@pytest.mark.parametrize("amount, message", [
    ("1e9999", "amount: '1e9999' has more than 14 digits before the decimal point"),
    ("9" * 40, f"amount: '{'9' * 40}' has more than 14 digits before the decimal point"),
    ("1e-400", "amount: EUR has 2 decimal places, got '1e-400'"),
    ("NaN", "amount: expected a positive decimal like \"10.00\", got 'NaN'"),
    ("-Infinity", "amount: expected a positive decimal like \"10.00\", got '-Infinity'"),
])
@pytest.mark.parametrize("operation", [payments.capture_payment, payments.refund_payment])
def test_a_capture_or_refund_amount_that_no_column_holds_is_invalid_amount(app, shop, database, amount, message,
                                                                           operation):
    _order, auth = place_and_pay(database, shop)
    before = (table(database, PaymentTransaction), len(events(database)))

    with pytest.raises(BusinessError) as refused:
        database.run(lambda s: operation(s, STAFF, auth.id, amount))

    assert (refused.value.code, refused.value.field, refused.value.message) == ("INVALID_AMOUNT", "amount", message)
    assert (table(database, PaymentTransaction), len(events(database))) == before


def test_a_40_digit_price_is_invalid_amount_and_no_product_is_made(app, client, database):
    seed(database)
    admin = signed_in(app, client, "admin")
    huge = "1" * 40 + ".00"
    variants = [{**SHIRT["variants"][0], "basePrice": huge}, {**SHIRT["variants"][1], "basePrice": "1e9999"}]

    answer = gql(client, CREATE_PRODUCT, {"input": {**SHIRT, "variants": variants}}, admin).get_json()

    assert answer["data"]["createProduct"]["errors"] == [
        {"code": "INVALID_AMOUNT", "field": "variants.0.basePrice",
         "message": f"variants.0.basePrice: '{huge}' has more than 14 digits before the decimal point"},
        {"code": "INVALID_AMOUNT", "field": "variants.1.basePrice",
         "message": "variants.1.basePrice: '1e9999' has more than 14 digits before the decimal point"}]
    assert rows(app, Product) == []


@pytest.mark.parametrize("bound, value, message", [
    ("priceMin", "1e-400", "filter.priceMin: '1e-400' has more than 4 decimal places"),
    ("priceMax", "9" * 40, f"filter.priceMax: '{'9' * 40}' has more than 14 digits before the decimal point"),
    ("priceMin", "Infinity", "filter.priceMin: expected a decimal number ≥ 0 like \"19.90\", got 'Infinity'"),
])
def test_a_price_filter_beyond_the_columns_is_invalid_amount(app, client, bound, value, message):
    response = gql(client, "query($f: ProductFilter) { products(filter: $f) { totalCount } }", {"f": {bound: value}})

    [error] = response.get_json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == (message, "INVALID_AMOUNT")


# 9. search


PRODUCTS = "query($s: String) { products(filter: {search: $s}) { totalCount } }"


def test_a_30000_word_product_search_is_refused_quickly_with_a_clear_error(client):
    response = gql(client, PRODUCTS, {"s": " ".join(["blue"] * 30_000)})

    [error] = response.get_json()["errors"]
    assert error["extensions"]["code"] == "INVALID_SEARCH"
    assert error["message"] == f"filter.search: 149999 characters; a search is at most {MAX_SEARCH_CHARS}"


def test_too_many_words_are_refused_and_the_bound_itself_searches(client):
    words = " ".join(["ab"] * (MAX_SEARCH_TERMS + 1))
    [error] = gql(client, PRODUCTS, {"s": words}).get_json()["errors"]
    assert (error["message"], error["extensions"]["code"]) == (
        f"filter.search: {MAX_SEARCH_TERMS + 1} words; a search is at most {MAX_SEARCH_TERMS}", "INVALID_SEARCH")
    within = gql(client, PRODUCTS, {"s": " ".join(["ab"] * MAX_SEARCH_TERMS)}).get_json()
    assert within == {"data": {"products": {"totalCount": 0}}}


@pytest.mark.parametrize("query, field", [("customers", "customers"), ("accounts", "accounts")])
def test_a_100000_character_staff_search_is_invalid_search(app, client, query, field):
    admin = signed_in(app, client, "admin")

    response = gql(client, f"query($s: String) {{ {query}(search: $s) {{ totalCount }} }}", {"s": "x" * 100_000}, admin)

    [error] = response.get_json()["errors"]
    assert (error["message"], error["extensions"]["code"], error["path"]) == (
        f"search: 100000 characters; a search is at most {MAX_SEARCH_CHARS}", "INVALID_SEARCH", [field])


def test_staff_searches_take_percent_and_underscore_literally(app, client):
    admin = signed_in(app, client, "admin")
    for email, first in (("a_b@example.test", "Ann"), ("axb@example.test", "Bob"), ("c@example.test", "100% Carl")):
        make_user(app, email, ["customer"])

    def work(session):
        for email, first in (("a_b@example.test", "Ann"), ("axb@example.test", "Bob"), ("c@example.test", "100% Carl")):
            user = session.exec(select(User).where(User.email == email)).one()
            session.add(Customer(user_id=user.id, first_name=first))
        session.add_all([Account(slug="acme_eu", name="Acme EU"), Account(slug="acmexeu", name="Acme X")])

    app.extensions["vectis.db"].run(work)
    names = "query($s: String) { customers(search: $s) { nodes { firstName } } }"

    def found(search):
        return sorted(n["firstName"] for n in gql(client, names, {"s": search}, admin).get_json()["data"]["customers"]["nodes"])

    assert found("a_b") == ["Ann"]
    assert found("%") == ["100% Carl"]
    assert found("_") == ["Ann"]
    accounts = gql(client, 'query { accounts(search: "acme_") { nodes { slug } } }', token=admin).get_json()
    assert accounts["data"]["accounts"]["nodes"] == [{"slug": "acme_eu"}]


# 10. idempotency keys per caller


def _placed(client, token, key="k-1"):
    return post(client, PLACE, {"id": ready_cart(client, token), "key": key}, token)["data"]["placeOrder"]


def test_a_key_another_buyer_used_is_an_unused_key_for_this_buyer(app, client):
    store(app)
    cara = customer(app, client, "cara@example.test")
    dora = customer(app, client, "dora@example.test")
    first = _placed(client, cara)
    assert first["errors"] == []

    # Dora's k-1 is hers: a new order, not IDEMPOTENCY_KEY_REUSED (which would reveal Cara's key)
    second = _placed(client, dora)
    assert second["errors"] == [] and second["order"]["id"] != first["order"]["id"]
    assert sorted((o.idempotency_scope.split(":")[0], o.idempotency_key) for o in rows(app, Order)) == [
        ("user", "k-1"), ("user", "k-1")]

    # Cara reusing her own key on another cart is still refused, and changes nothing
    cart = ready_cart(client, cara)
    before = (cart_state(app), len(rows(app, Order)))
    reused = post(client, PLACE, {"id": cart, "key": "k-1"}, cara)["data"]["placeOrder"]
    assert reused == {"order": None, "errors": [{"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey",
                                                 "message": "idempotencyKey: already used for an order of another "
                                                            "cart; use a new key per checkout"}]}
    assert (cart_state(app), len(rows(app, Order))) == before


def test_a_key_committed_by_a_concurrent_call_of_the_same_buyer_is_reused_not_a_crash(app, client, monkeypatch):
    """Two placeOrder calls of one buyer with one key on two carts: the second's look-up ran
    before the first committed, so its insert meets the unique key; it is answered again."""
    store(app)
    cara = customer(app, client, "cara@example.test")
    first = _placed(client, cara)
    cart = ready_cart(client, cara)
    before = (cart_state(app), len(rows(app, Order)))
    real, calls = checkout_service._order_for_key, []

    def raced(session, scope, key):  # the first look-up misses the other call's uncommitted order
        calls.append(key)
        return None if len(calls) == 1 else real(session, scope, key)

    monkeypatch.setattr(checkout_service, "_order_for_key", raced)
    reused = post(client, PLACE, {"id": cart, "key": "k-1"}, cara)["data"]["placeOrder"]

    assert calls == ["k-1", "k-1"]
    assert reused["order"] is None and [e["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert (cart_state(app), len(rows(app, Order))) == before
    assert first["errors"] == []


def test_a_key_is_kept_for_the_retention_time_then_released(app, client, frozen_clock):
    store(app)
    cara = customer(app, client)
    first = _placed(client, cara)
    hours = app.config["VECTIS"].idempotency_key_hours
    assert hours == 24

    frozen_clock.advance(timedelta(hours=hours) - timedelta(seconds=1))
    cara = login(client, "cara@example.test")  # the access token of a day ago has expired
    within = post(client, PLACE, {"id": ready_cart(client, cara), "key": "k-1"}, cara)["data"]["placeOrder"]
    assert within["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"

    frozen_clock.advance(timedelta(seconds=2))
    cara = login(client, "cara@example.test")
    after = _placed(client, cara)
    assert after["errors"] == [] and after["order"]["id"] != first["order"]["id"]
    keys = {int(o.id): (o.idempotency_scope is not None, o.idempotency_key) for o in rows(app, Order)}
    assert keys == {int(first["order"]["id"]): (False, None), int(after["order"]["id"]): (True, "k-1")}


def test_order_totals_stay_exact_at_the_bounds():
    assert Money(Decimal("99999999999999.99"), "EUR").amount == Decimal("99999999999999.99")
    with pytest.raises(ValueError, match="too large for an amount of money"):
        Money(Decimal("1e9999"), "EUR")
