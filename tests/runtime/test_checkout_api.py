"""placeOrder and adminCreateOrder over GraphQL: the six-request checkout, idempotent retries,
concurrent calls on one cart, declined and timed-out cards, B2B permissions, staff orders, the
stage pipeline, and the SQL statements a checkout costs."""
from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import event
from sqlmodel import select

from runtime.carts.models import Cart
from runtime.checkout import Stage, register_stage
from runtime.orders.models import Order, OrderLine
from runtime.payments.models import PaymentTransaction, SavedPaymentMethod
from runtime.pricing.models import PriceListEntry
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import (AT, BILL_TO, CREATE, EMAIL, ERRORS, GATEWAY, METHOD, PAY, SHIP_TO, b2b, cart_state,
                                          customer, new_cart, post, rows, store)

PLACE = ("mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) {"
         " order { id number state paymentStatus email total { amount currency } itemCount createdBy"
         " lines { sku quantity unitPrice { amount } } } " + ERRORS + " } }")
ADMIN = ("mutation($input: AdminCreateOrderInput!) { adminCreateOrder(input: $input) {"
         " order { id state total { amount } createdBy email } " + ERRORS + " } }")


def ready_cart(client, token=None, card="4242424242424242", quantity=2) -> str:
    """A cart with everything placeOrder needs: the six-request flow minus placeOrder."""
    cart = new_cart(client, [{"sku": "MUG-1", "quantity": quantity}], token, email="ada@example.test")["id"]
    for query, variables in ((SHIP_TO, {"input": {"address": AT}}), (BILL_TO, {"input": {"address": AT}}),
                             (METHOD, {"code": "standard"}), (PAY, {"input": {"token": card}})):
        answer = post(client, query, {"id": cart, **variables}, token)
        assert list(answer["data"].values())[0]["errors"] == []
    return cart


def money_state(app):
    return (len(rows(app, Order)), len(rows(app, OrderLine)),
            [(p.type, p.state, p.captured_amount) for p in rows(app, PaymentTransaction)])


def test_a_guest_places_an_order_and_a_retry_returns_the_same_order(app, client):
    store(app)
    cart = ready_cart(client)
    placed = post(client, PLACE, {"id": cart, "key": "k-1"})["data"]["placeOrder"]
    assert placed["errors"] == []
    order = placed["order"]
    assert {k: v for k, v in order.items() if k not in ("id", "number")} == {
        "state": "paid", "paymentStatus": "captured", "email": "ada@example.test",
        "total": {"amount": "22.90", "currency": "EUR"}, "itemCount": 2, "createdBy": None,
        "lines": [{"sku": "MUG-1", "quantity": 2, "unitPrice": {"amount": "9.00"}}]}
    stored = rows(app, Cart)[0]
    assert (stored.state, stored.total, stored.shipping_total) == ("converted", Decimal("22.90"), Decimal("4.90"))
    # when the client retries (same key): the same order, nothing new
    again = post(client, PLACE, {"id": cart, "key": "k-1"})["data"]["placeOrder"]
    assert again == placed
    assert money_state(app) == (1, 1, [("authorization", "captured", Decimal("22.90")), ("capture", "succeeded", Decimal("0"))])
    # a new key on the converted cart is refused
    other = post(client, PLACE, {"id": cart, "key": "k-2"})["data"]["placeOrder"]
    assert other == {"order": None, "errors": [{"code": "CART_NOT_ACTIVE", "field": "cartId",
                                                "message": "cartId: the cart is converted, only an active cart can change"}]}
    # the converted cart cannot change any more
    refused = post(client, EMAIL, {"id": cart, "email": "new@example.test"})["data"]["setCartEmail"]
    assert refused["errors"][0]["code"] == "CART_NOT_ACTIVE"
    # a guest is known only by the cart: on another cart the key is an unused one (keys are per caller)
    second = ready_cart(client)
    fresh = post(client, PLACE, {"id": second, "key": "k-1"})["data"]["placeOrder"]
    assert fresh["errors"] == [] and fresh["order"]["id"] != order["id"]
    order_row = rows(app, Order)[0]
    assert (order_row.cart_id, order_row.idempotency_key, order_row.pipeline["pricing"]) == (stored.id, "k-1", {"changed": []})


def test_place_order_lists_everything_missing_and_changes_nothing(app, client):
    store(app)
    empty = new_cart(client)["id"]
    before = cart_state(app)
    answer = post(client, PLACE, {"id": empty, "key": "k"})["data"]["placeOrder"]
    assert answer == {"order": None, "errors": [
        {"code": "CART_EMPTY", "field": "cartId", "message": "cartId: add a line first before placing the order"},
        {"code": "MISSING_EMAIL", "field": "cartId", "message": "cartId: set the e-mail (setCartEmail) before placing the order"},
        {"code": "MISSING_SHIPPING_ADDRESS", "field": "cartId", "message": "cartId: set the shipping address before placing the order"},
        {"code": "MISSING_BILLING_ADDRESS", "field": "cartId", "message": "cartId: set the billing address before placing the order"},
        {"code": "MISSING_SHIPPING_METHOD", "field": "cartId", "message": "cartId: choose a shipping method before placing the order"},
        {"code": "MISSING_PAYMENT", "field": "cartId", "message": "cartId: set the payment (setCartPayment) before placing the order"},
    ]}
    assert cart_state(app) == before
    assert money_state(app) == (0, 0, [])


@pytest.mark.parametrize("card, code, message", [
    ("4000000000000002", "PAYMENT_DECLINED", "payment: the card was declined: The issuer declined the card (do not honor)."),
    ("4000000000000119", "PAYMENT_UNAVAILABLE", "payment: the mock gateway did not answer in time (test card ending 0119);"
                                                " nothing was authorized, retrying may succeed"),
])
def test_a_declined_or_timed_out_card_leaves_no_order_and_an_active_cart(app, client, card, code, message):
    store(app)
    cart = ready_cart(client, card=card)
    before = cart_state(app)
    answer = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]
    assert answer["order"] is None
    assert answer["errors"] == [{"code": code, "field": "payment", "message": message}]
    carts, lines, _events = cart_state(app)
    assert (carts, lines) == before[:2]
    assert rows(app, Cart)[0].state == "active"
    assert money_state(app) == (0, 0, [])


def test_a_changed_price_is_applied_and_noted_and_a_pack_stage_runs_in_its_place(app, client):
    ids = store(app)
    seen = []
    register_stage(app, Stage("audit", 200, lambda checkout: seen.append(checkout.subtotal.amount)
                              or checkout.note("audit", subtotal=format(checkout.subtotal.amount, "f"))), pack="test")
    cart = ready_cart(client)

    def cheaper(session):
        entry = session.exec(select(PriceListEntry).where(PriceListEntry.variant_id == ids["mug"],
                                                          PriceListEntry.min_quantity == 1)).one()
        entry.price = Decimal("7.50")
        session.add(entry)

    app.extensions["vectis.db"].run(cheaper)
    placed = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]
    assert placed["order"]["total"] == {"amount": "19.90", "currency": "EUR"}
    assert seen == [Decimal("15.00")]
    order = rows(app, Order)[0]
    assert order.pipeline["audit"] == {"subtotal": "15.00"}
    assert [(c["sku"], c["was"], c["now"]) for c in order.pipeline["pricing"]["changed"]] == [("MUG-1", "9.00", "7.50")]
    assert [(l.sku, l.unit_price) for l in rows(app, OrderLine)] == [("MUG-1", Decimal("7.50"))]


def test_a_b2b_viewer_may_not_place_orders_and_a_buyer_may(app, client):
    store(app)
    acme = b2b(app, client, employees=(("buyer@acme.test", "b2b_buyer"), ("viewer@acme.test", "b2b_viewer")))
    viewer, buyer = acme["tokens"]["viewer@acme.test"], acme["tokens"]["buyer@acme.test"]
    cart = ready_cart(client, buyer)
    forbidden = post(client, PLACE, {"id": cart, "key": "k"}, viewer)
    assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert forbidden["errors"][0]["message"] == "permission 'orders.place' is required"
    assert money_state(app) == (0, 0, [])
    placed = post(client, PLACE, {"id": cart, "key": "k"}, buyer)["data"]["placeOrder"]
    assert placed["errors"] == []
    order = rows(app, Order)[0]
    assert (order.account_id, order.location_id) == (acme["account"], acme["location"])


def test_a_customer_checkout_defaults_the_email_to_the_customers(app, client):
    store(app)
    cara = customer(app, client)
    cart = new_cart(client, [{"sku": "CUP-1", "quantity": 1}], cara)["id"]
    for query, variables in ((SHIP_TO, {"input": {"address": AT}}), (BILL_TO, {"input": {"address": AT}}),
                             (METHOD, {"code": "standard"}), (PAY, {"input": {"token": "4242424242424242"}})):
        post(client, query, {"id": cart, **variables}, cara)
    placed = post(client, PLACE, {"id": cart, "key": "k"}, cara)["data"]["placeOrder"]
    assert placed["errors"] == []
    assert (placed["order"]["email"], placed["order"]["total"]) == ("cara@example.test", {"amount": "9.40", "currency": "EUR"})


def test_staff_create_an_order_for_a_location_charged_to_its_saved_card(app, client):
    store(app)
    acme = b2b(app, client)
    sales = signed_in(app, client, "sales")

    def card(session):
        method = SavedPaymentMethod(account_id=acme["account"], location_id=acme["location"], gateway=GATEWAY,
                                    token="4242424242424242", label="Corporate", brand="visa", last4="4242")
        session.add(method)
        session.flush()
        return method.id

    method = app.extensions["vectis.db"].run(card)
    values = {"accountId": str(acme["account"]), "locationId": str(acme["location"]), "lines": [{"sku": "MUG-1", "quantity": 10}],
              "shippingAddressId": str(acme["address"]), "billingAddressId": str(acme["address"]),
              "shippingMethodCode": "express", "savedPaymentMethodId": str(method), "idempotencyKey": "staff-1",
              "email": "purchasing@acme.test"}
    viewer = signed_in(app, client, "viewer")
    assert post(client, ADMIN, {"input": values}, viewer)["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    foreign = post(client, ADMIN, {"input": {**values, "accountId": "999"}}, sales)["data"]["adminCreateOrder"]
    assert foreign["errors"][0]["code"] == "NOT_FOUND"
    assert (rows(app, Cart), rows(app, Order)) == ([], [])
    placed = post(client, ADMIN, {"input": values}, sales)["data"]["adminCreateOrder"]
    assert placed["errors"] == []
    assert {k: v for k, v in placed["order"].items() if k != "id"} == {
        "state": "paid", "total": {"amount": "92.00"}, "createdBy": "sales@example.test", "email": "purchasing@acme.test"}
    again = post(client, ADMIN, {"input": values}, sales)["data"]["adminCreateOrder"]
    assert again == placed
    cart = rows(app, Cart)[0]
    assert (cart.user_id, cart.account_id, cart.location_id, cart.state) == (None, acme["account"], acme["location"], "converted")
    assert cart.shipping_address["line1"] == "Werkstr. 5"


def test_concurrent_place_order_on_one_cart_creates_exactly_one_order(app, client):
    # PostgreSQL: the row lock queues them. SQLite: one writer at a time; a loser's stale snapshot
    # fails its first write and the transaction is retried whole, then sees the converted cart.
    store(app)
    cart = ready_cart(client)
    results, barrier = [], threading.Barrier(8)

    def call(index: int) -> None:
        local = app.test_client()
        barrier.wait()
        key = "same" if index % 2 == 0 else f"other-{index}"
        response = local.post("/graphql", json={"query": PLACE, "variables": {"id": cart, "key": key}},
                              headers={"X-Channel-Slug": "web"})
        results.append((key, response.status_code, response.get_json()))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for _key, status, _body in results} == {200}
    orders = rows(app, Order)
    assert len(orders) == 1
    for key, _status, body in results:
        answer = body["data"]["placeOrder"]
        if key == orders[0].idempotency_key:
            assert answer["order"]["id"] == str(orders[0].id)
        else:
            assert [e["code"] for e in answer["errors"]] == ["CART_NOT_ACTIVE"]
    assert [(key, "errors" in body) for key, _status, body in results if "errors" in body] == []
    assert money_state(app) == (1, 1, [("authorization", "captured", Decimal("22.90")), ("capture", "succeeded", Decimal("0"))])
    assert rows(app, Cart)[0].state == "converted"


def test_the_six_request_checkout_costs_at_most_60_sql_statements(app, client):
    store(app)
    engine = app.extensions["vectis.db"].engine
    counts = {}
    current = {"step": None}

    statements = []

    def count(_conn, _cursor, statement, *_args):
        if current["step"]:
            counts[current["step"]] = counts.get(current["step"], 0) + 1
            statements.append((current["step"], " ".join(statement.split())[:150]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        cart_fields = "cart { id total { amount currency } } " + ERRORS
        current["step"] = "createCart"
        cart = post(client, f"mutation($input: CreateCartInput!) {{ createCart(input: $input) {{ {cart_fields} }} }}",
                    {"input": {"email": "bench@example.test", "lines": [{"sku": "MUG-1", "quantity": 1}]}})["data"]["createCart"]["cart"]["id"]
        steps = (("setCartShippingAddress", "($id: ID!, $input: CartAddressInput!)", "(cartId: $id, input: $input)", {"input": {"address": AT}}),
                 ("setCartBillingAddress", "($id: ID!, $input: CartAddressInput!)", "(cartId: $id, input: $input)", {"input": {"address": AT}}),
                 ("setCartShippingMethod", "($id: ID!, $code: String!)", "(cartId: $id, code: $code)", {"code": "standard"}),
                 ("setCartPayment", "($id: ID!, $input: CartPaymentInput!)", "(cartId: $id, input: $input)", {"input": {"token": "4242424242424242"}}))
        for name, params, args, variables in steps:
            current["step"] = name
            answer = post(client, f"mutation{params} {{ {name}{args} {{ {cart_fields} }} }}", {"id": cart, **variables})
            assert answer["data"][name]["errors"] == []
        current["step"] = "placeOrder"
        placed = post(client, "mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) {"
                              " order { id number total { amount currency } } " + ERRORS + " } }",
                      {"id": cart, "key": str(uuid.uuid4())})["data"]["placeOrder"]
        current["step"] = None
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert placed["errors"] == []
    # Without Redis (this SQLite run) the outbox publisher runs in-process after each commit; with
    # Redis it runs in a worker. The checkout's own statements are the rest.
    publisher = [sql for _step, sql in statements if "automation_event" in sql or sql.startswith(
        ("SELECT event_outbox.seq", "UPDATE event_outbox SET published_at", "SELECT webhook_subscription."))]
    total = len(statements) - len(publisher)
    print(f"SQL statements per six-request checkout: {total} (+ {len(publisher)} by the in-process outbox publisher) {counts}")
    # Issue 4's target was 60. Promotions (200), tax (400), the approval gate (650), tenders (700)
    # and tax-aware cart totals in every payload raised it to 77 on PostgreSQL and 82 on SQLite
    # (2026-12-02), with the channel cache off as in every test: 12 of them are channel and
    # provider reads the cache saves in production. This guards against further growth.
    assert total <= 85


def test_a_location_cart_is_priced_for_the_location_whoever_builds_it(app, client):
    from runtime.pricing.models import PriceList

    ids = store(app)
    acme = b2b(app, client)
    sales = signed_in(app, client, "sales")

    def contract(session):
        prices = PriceList(slug="acme-hq", name="Acme HQ contract", level="LOCATION", currency="EUR",
                           location_id=acme["location"])
        session.add(prices)
        session.flush()
        session.add(PriceListEntry(price_list_id=prices.id, variant_id=ids["mug"], min_quantity=1, price=Decimal("6.00")))

    app.extensions["vectis.db"].run(contract)
    employee = new_cart(client, [{"sku": "MUG-1", "quantity": 2}], acme["tokens"]["buyer@acme.test"])
    staff = new_cart(client, [{"sku": "MUG-1", "quantity": 2}], sales, locationId=str(acme["location"]))
    guest = new_cart(client, [{"sku": "MUG-1", "quantity": 2}])
    assert [(c["lines"][0]["unitPrice"]["amount"], c["lines"][0]["priceLevel"]) for c in (employee, staff, guest)] == [
        ("6.00", "LOCATION"), ("6.00", "LOCATION"), ("9.00", "CHANNEL")]
    stored = rows(app, Cart, Cart.token == staff["id"])[0]
    assert (stored.user_id, stored.account_id, stored.location_id) == (None, acme["account"], acme["location"])
    refused = post(client, CREATE, {"input": {"locationId": str(acme["location"])}}, customer(app, client))
    assert refused["data"]["createCart"]["errors"] == [{"code": "NOT_FOUND", "field": "input.locationId",
                                                        "message": f"input.locationId: no location '{acme['location']}'"}]
