"""Orders and payments over GraphQL: ownership (NOT_FOUND across accounts), blockers as data,
staff payment operations, saved payment methods, setChannelProvider, no N+1 in ``orders``."""
from __future__ import annotations

import pytest
from sqlmodel import select

from runtime.accounts.models import Customer, Employee
from runtime.channels.models import Channel, ChannelProvider
from runtime.orders import service as orders
from runtime.payments import service as payments
from runtime.payments.models import PaymentTransaction, SavedPaymentMethod
from tests.runtime.helpers import gql, login, signed_in
from tests.runtime.test_orders_data import (SUCCESS, StatementCounter, draft, employee, live,  # noqa: F401
                                            shop)

ORDER = """query($id: ID!) { order(id: $id) {
  id number state paymentStatus currency itemCount channel { slug }
  lines { sku quantity unitPrice { amount currency } lineTotal { amount } priceLevel priceListSlug }
  total { amount currency } baseTotal { amount currency } exchangeRate shippingMethod { code amount { amount currency } }
  account { slug } location { code }
  availableTransitions { name to available blockers { code field message } }
  history { transition fromState toState actor revision }
  payments { id type state amount { amount } capturedAmount { amount } parentId }
} }"""
ORDERS = """query($first: Int, $after: String, $filter: OrderFilter) { orders(first: $first, after: $after, filter: $filter) {
  totalCount nodes { id state lines { sku } payments { type } account { slug } channel { slug } }
  pageInfo { hasNextPage endCursor }
} }"""
TRANSITION = """mutation($id: ID!, $t: String!) { transitionOrder(orderId: $id, transition: $t) {
  order { id state } errors { code field message } } }"""
CAPTURE = """mutation($id: ID!, $amount: String) { capturePayment(paymentId: $id, amount: $amount) {
  payment { id state capturedAmount { amount } } operation { type amount { amount } parentId } errors { code field message } } }"""
VOID = """mutation($id: ID!) { voidPayment(paymentId: $id) { payment { state } errors { code field message } } }"""
REFUND = """mutation($id: ID!, $amount: String) { refundPayment(paymentId: $id, amount: $amount) {
  payment { state refundedAmount { amount } } errors { code field message } } }"""
ADD_METHOD = """mutation($input: AddSavedPaymentMethodInput!) { addSavedPaymentMethod(input: $input) {
  savedPaymentMethod { id gateway label brand last4 location { code } } errors { code field message } } }"""
REMOVE_METHOD = """mutation($id: ID!) { removeSavedPaymentMethod(id: $id) { savedPaymentMethod { id } errors { code field message } } }"""
METHODS = "{ savedPaymentMethods { id label last4 } }"
SET_PROVIDER = """mutation($slug: String!, $provider: String!, $config: JSON) {
  setChannelProvider(channelSlug: $slug, slot: "payment_gateway", provider: $provider, config: $config) {
    channel { slug } channelProvider { slot provider config position isActive } errors { code field message } } }"""


@pytest.fixture
def buyers(app, client, shop, database):
    """carla a customer, erik an employee of acme, gina of globex: their tokens."""
    def work(session):
        session.add(Customer(user_id=shop["carla"]))
        session.add(Employee(user_id=shop["erik"], account_id=shop["acme"], location_id=shop["acme_hq"]))
        session.add(Employee(user_id=shop["gina"], account_id=shop["globex"], location_id=shop["globex_hq"]))

    database.run(work)
    return {name: login(client, f"{name}@example.test") for name in ("carla", "erik", "gina")}


def post(client, query, variables=None, token=None):
    return gql(client, query, variables, token).get_json()


def _place(database, shop, name="erik", account="acme", channel="trade", pay=True):
    actor = employee(shop, name, account)

    def work(session):
        order = orders.create_order(session, draft(shop, channel=channel, user=name, account=account), actor)
        if pay:
            payments.pay_order(session, order, channel=session.get(Channel, shop[channel]), actor=actor,
                               idempotency_key=f"order:{name}:{order.number}", token=SUCCESS)
        return order.id

    return database.run(work)


def test_an_employee_reads_their_accounts_order_and_another_account_gets_null(app, client, shop, buyers, database):
    order_id = _place(database, shop, pay=False)

    order = post(client, ORDER, {"id": str(order_id)}, buyers["erik"])["data"]["order"]

    assert order["number"] == f"V-{order_id:06d}"
    assert (order["state"], order["paymentStatus"], order["currency"], order["itemCount"]) == ("placed", "none", "EUR", 3)
    assert order["channel"] == {"slug": "trade"} and order["account"] == {"slug": "acme"} and order["location"] == {"code": "HQ"}
    assert order["lines"] == [
        {"sku": "SKU-1", "quantity": 2, "unitPrice": {"amount": "19.99", "currency": "EUR"}, "lineTotal": {"amount": "39.98"},
         "priceLevel": "CHANNEL", "priceListSlug": "web-eur"},
        {"sku": "SKU-2", "quantity": 1, "unitPrice": {"amount": "5.50", "currency": "EUR"}, "lineTotal": {"amount": "5.50"},
         "priceLevel": "CHANNEL", "priceListSlug": "web-eur"}]
    assert (order["total"], order["baseTotal"], order["exchangeRate"]) == (
        {"amount": "50.38", "currency": "EUR"}, {"amount": "50.38", "currency": "EUR"}, "1")
    assert order["shippingMethod"] == {"code": "standard", "amount": {"amount": "4.90", "currency": "EUR"}}
    # transitions for THIS caller, blockers as data
    assert order["availableTransitions"] == [
        {"name": "pay", "to": "paid", "available": False, "blockers": [
            {"code": "GUARD_FAILED", "field": "transition", "message": order["availableTransitions"][0]["blockers"][0]["message"]}]},
        {"name": "hold_for_review", "to": "held_for_review", "available": False, "blockers": [
            {"code": "PERMISSION_DENIED", "field": "transition", "message": "needs permission 'orders.review_fraud'"}]},
        {"name": "cancel", "to": "cancelled", "available": False, "blockers": [
            {"code": "PERMISSION_DENIED", "field": "transition",
             "message": order["availableTransitions"][2]["blockers"][0]["message"]}]}]
    assert "orders.cancel" in order["availableTransitions"][2]["blockers"][0]["message"]
    assert order["history"] == [{"transition": "place", "fromState": "draft", "toState": "placed",
                                 "actor": "erik@example.test", "revision": 1}]
    # another account's employee and the customer get null, as for an unknown id
    for token in (buyers["gina"], buyers["carla"]):
        assert post(client, ORDER, {"id": str(order_id)}, token)["data"]["order"] is None
    assert post(client, ORDER, {"id": "999999"}, buyers["erik"])["data"]["order"] is None


def test_transition_order_blocked_foreign_and_allowed(app, client, shop, buyers, database):
    order_id = _place(database, shop, pay=False)
    sales = signed_in(app, client, "sales")

    blocked = post(client, TRANSITION, {"id": str(order_id), "t": "cancel"}, buyers["erik"])["data"]["transitionOrder"]
    foreign = post(client, TRANSITION, {"id": str(order_id), "t": "cancel"}, buyers["gina"])["data"]["transitionOrder"]

    assert blocked["order"] is None and [(e["code"], e["field"]) for e in blocked["errors"]] == [("PERMISSION_DENIED", "transition")]
    assert foreign == {"order": None, "errors": [{"code": "NOT_FOUND", "field": "orderId", "message": f"orderId: no order {order_id}"}]}
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        assert session.get(orders.Order, order_id).state == "placed"

    unknown = post(client, TRANSITION, {"id": str(order_id), "t": "fly"}, sales)["data"]["transitionOrder"]
    assert unknown["errors"] == [{"code": "UNKNOWN_TRANSITION", "field": "transition", "message":
                                  "transition: the order machine has no transition 'fly' (known: cancel, complete, hold_for_review, pay, "
                                  "place, reject_fraud_hold, release_fraud_hold, ship)"}]

    done = post(client, TRANSITION, {"id": str(order_id), "t": "cancel"}, sales)["data"]["transitionOrder"]

    assert done == {"order": {"id": str(order_id), "state": "cancelled"}, "errors": []}


def test_orders_lists_own_orders_for_buyers_and_filters_for_staff(app, client, shop, buyers, database):
    acme = [_place(database, shop) for _ in range(3)]
    globex = _place(database, shop, "gina", "globex", channel="web")
    admin = signed_in(app, client, "admin")

    mine = post(client, ORDERS, {"first": 2}, buyers["erik"])["data"]["orders"]
    assert mine["totalCount"] == 3 and [n["id"] for n in mine["nodes"]] == [str(acme[2]), str(acme[1])]
    assert mine["pageInfo"]["hasNextPage"] is True
    rest = post(client, ORDERS, {"first": 2, "after": mine["pageInfo"]["endCursor"]}, buyers["erik"])["data"]["orders"]
    assert [n["id"] for n in rest["nodes"]] == [str(acme[0])] and rest["pageInfo"]["hasNextPage"] is False
    assert post(client, ORDERS, {}, buyers["gina"])["data"]["orders"]["nodes"][0]["id"] == str(globex)
    assert post(client, ORDERS, {}, buyers["carla"])["data"]["orders"]["totalCount"] == 0

    staff = post(client, ORDERS, {"filter": {"channelSlug": "web"}}, admin)["data"]["orders"]
    assert [n["id"] for n in staff["nodes"]] == [str(globex)]
    assert staff["nodes"][0]["payments"] == [{"type": "authorization"}, {"type": "capture"}]
    by_account = post(client, ORDERS, {"filter": {"accountId": str(shop["acme"]), "states": ["paid"]}}, admin)["data"]["orders"]
    assert by_account["totalCount"] == 3
    bad = post(client, ORDERS, {"filter": {"createdFrom": "yesterday"}}, admin)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_FILTER"
    assert bad["errors"][0]["message"] == ("filter.createdFrom: expected an ISO-8601 time with a zone, like "
                                           "2026-01-15T12:00:00Z, got 'yesterday'")


def test_orders_page_costs_the_same_queries_whatever_its_size(app, client, shop, buyers, database):
    for _ in range(6):
        _place(database, shop)
    admin = signed_in(app, client, "admin")
    engine = app.extensions["vectis.db"].engine

    counts = []
    for first in (2, 6):
        with StatementCounter(engine) as counter:
            answer = post(client, ORDERS, {"first": first}, admin)
        assert len(answer["data"]["orders"]["nodes"]) == first
        counts.append(len(counter.statements))

    print("orders statements for first=2, first=6:", counts)
    assert counts[0] == counts[1]


def test_staff_capture_refund_and_void_over_graphql(app, client, shop, buyers, database):
    first = _place(database, shop)
    second = _place(database, shop)
    with app.extensions["vectis.db"].session() as session:
        auth_ids = [session.exec(select(PaymentTransaction.id).where(PaymentTransaction.order_id == oid)).one()
                    for oid in (first, second)]
    sales, admin = signed_in(app, client, "sales"), signed_in(app, client, "admin")

    captured = post(client, CAPTURE, {"id": str(auth_ids[0]), "amount": "10.00"}, sales)["data"]["capturePayment"]
    assert captured == {"payment": {"id": str(auth_ids[0]), "state": "partially_captured", "capturedAmount": {"amount": "10.00"}},
                        "operation": {"type": "capture", "amount": {"amount": "10.00"}, "parentId": str(auth_ids[0])},
                        "errors": []}
    refunded = post(client, REFUND, {"id": str(auth_ids[0]), "amount": "4.00"}, admin)["data"]["refundPayment"]
    assert refunded == {"payment": {"state": "partially_refunded", "refundedAmount": {"amount": "4.00"}}, "errors": []}
    voided = post(client, VOID, {"id": str(auth_ids[1])}, sales)["data"]["voidPayment"]
    assert voided == {"payment": {"state": "voided"}, "errors": []}
    # the sales role may not refund; a buyer may not capture: top-level FORBIDDEN
    assert post(client, REFUND, {"id": str(auth_ids[0])}, sales)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert post(client, CAPTURE, {"id": str(auth_ids[0])}, buyers["erik"])["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    again = post(client, CAPTURE, {"id": str(auth_ids[1])}, sales)["data"]["capturePayment"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("PAYMENT_STATE_INVALID", "paymentId")]
    assert again["errors"][0]["message"].startswith("paymentId: capture: ")
    unknown = post(client, VOID, {"id": "999999"}, sales)["data"]["voidPayment"]
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "paymentId", "message": "paymentId: no payment 999999"}]


def test_saved_payment_methods_are_scoped_to_their_owners(app, client, shop, buyers, database):
    added = post(client, ADD_METHOD, {"input": {"token": "4242 4242 4242 4242", "label": "Company Visa",
                                                "locationId": str(shop["acme_hq"])}}, buyers["erik"])["data"]["addSavedPaymentMethod"]
    method = added["savedPaymentMethod"]
    assert added["errors"] == [] and {k: method[k] for k in ("gateway", "label", "brand", "last4", "location")} == {
        "gateway": "mock_gateway.payment_gateway.mock", "label": "Company Visa", "brand": "visa", "last4": "4242",
        "location": {"code": "HQ"}}
    # another account's location is NOT_FOUND; nothing is saved
    foreign = post(client, ADD_METHOD, {"input": {"token": SUCCESS, "locationId": str(shop["globex_hq"])}},
                   buyers["erik"])["data"]["addSavedPaymentMethod"]
    assert foreign["errors"] == [{"code": "NOT_FOUND", "field": "locationId", "message": f"locationId: no location {shop['globex_hq']}"}]
    assert post(client, METHODS, token=buyers["erik"])["data"]["savedPaymentMethods"] == [
        {"id": method["id"], "label": "Company Visa", "last4": "4242"}]
    assert post(client, METHODS, token=buyers["gina"])["data"]["savedPaymentMethods"] == []
    at_acme = "query($l: ID) { savedPaymentMethods(locationId: $l) { id } }"
    assert post(client, at_acme, {"l": str(shop["acme_hq"])}, buyers["gina"])["data"]["savedPaymentMethods"] == []
    assert post(client, METHODS, token=buyers["carla"])["data"]["savedPaymentMethods"] == []
    removed = post(client, REMOVE_METHOD, {"id": method["id"]}, buyers["gina"])["data"]["removeSavedPaymentMethod"]
    assert removed["errors"] == [{"code": "NOT_FOUND", "field": "id", "message": f"id: no saved payment method {method['id']}"}]
    with app.extensions["vectis.db"].session() as session:
        assert [m.is_active for m in session.exec(select(SavedPaymentMethod))] == [True]
    # the owner's employee pays with it; another account's buyer cannot
    with app.app_context():
        def pay(session, name, account):
            actor = employee(shop, name, account)
            order = orders.create_order(session, draft(shop, channel="trade", user=name, account=account), actor)
            return payments.pay_order(session, order, channel=session.get(Channel, shop["trade"]), actor=actor,
                                      idempotency_key=f"order:{name}", saved_payment_method_id=int(method["id"]))

        paid = database.run(lambda s: pay(s, "erik", "acme"))
        assert paid.saved_payment_method_id == int(method["id"]) and paid.state == "authorized"
        from runtime.errors import BusinessError
        with pytest.raises(BusinessError) as refused:
            database.run(lambda s: pay(s, "gina", "globex"))
        assert (refused.value.code, refused.value.message) == (
            "NOT_FOUND", f"savedPaymentMethodId: no saved payment method {method['id']}")
    done = post(client, REMOVE_METHOD, {"id": method["id"]}, buyers["erik"])["data"]["removeSavedPaymentMethod"]
    assert done == {"savedPaymentMethod": {"id": method["id"]}, "errors": []}
    assert post(client, METHODS, token=buyers["erik"])["data"]["savedPaymentMethods"] == []


def test_set_channel_provider_configures_the_gateway(app, client, shop):
    admin = signed_in(app, client, "admin")

    done = post(client, SET_PROVIDER, {"slug": "web", "provider": "mock_gateway.payment_gateway.mock",
                                       "config": {"merchant_id": "m_new"}}, admin)["data"]["setChannelProvider"]
    bad = post(client, SET_PROVIDER, {"slug": "web", "provider": "mock_gateway.payment_gateway.mock",
                                      "config": {"merchant_id": "has space"}}, admin)["data"]["setChannelProvider"]
    unknown = post(client, SET_PROVIDER, {"slug": "nope", "provider": "x"}, admin)["data"]["setChannelProvider"]
    sales = signed_in(app, client, "sales")
    forbidden = post(client, SET_PROVIDER, {"slug": "web", "provider": "x"}, sales)

    assert done == {"channel": {"slug": "web"}, "channelProvider": {"slot": "payment_gateway", "provider": "mock_gateway.payment_gateway.mock",
                                                                     "config": {"merchant_id": "m_new"}, "position": 0, "isActive": True},
                    "errors": []}
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [("INVALID_PROVIDER_CONFIG", "config")]
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "channelSlug", "message": "channelSlug: no channel 'nope'"}]
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    with app.extensions["vectis.db"].session() as session:
        assert [row.config for row in session.exec(select(ChannelProvider).where(ChannelProvider.channel_id == shop["web"]))] == [
            {"merchant_id": "m_new"}]
