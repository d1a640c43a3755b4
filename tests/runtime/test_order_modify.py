"""modifyOrder: an authorised, uncaptured order changes its lines; the money follows (an incremental
authorisation, or void and authorise again; a decrease lowers it), stock and caps are checked
again under locks, every version is kept, and a refusal leaves everything as it was."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.events.models import OutboxEvent
from runtime.inventory.models import Reservation, StockLevel
from runtime.orders.models import Order, OrderLine
from runtime.orders.versions import OrderVersion
from runtime.payments.models import PaymentTransaction
from runtime.tenders.models import PaymentTender
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import GATEWAY, customer, post, rows
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_inventory import stock, tracked_store
from tests.runtime.test_mmoq_api import variant_caps
from tests.runtime.test_tenders_checkout import calls, mock  # noqa: F401

MODIFY = ("mutation($id: ID!, $input: ModifyOrderInput!) { modifyOrder(orderId: $id, input: $input) {"
          " order { state total { amount } lines { sku quantity } tenders { type amount { amount } state }"
          " versions { version total { amount } actor reason lines } } errors { code field message } } }")
ALLOW = ("mutation($slug: String!, $may: Boolean!) { setChannelOrderModification(channelSlug: $slug, buyersMayModify:"
         " $may) { channel { slug } errors { code message } } }")
CAPTURE = "mutation($id: ID!) { capturePayment(paymentId: $id) { payment { state } errors { code message } } }"
LIMITED = "4000000000000341"  # the mock authorises at most 100.00 on it


def shop(app, *, on_hand=5, incremental=True, mode="AUTHORIZE"):
    ids = tracked_store(app, on_hand=on_hand)

    def work(session):
        session.execute(update(Channel).values(capture_mode=mode))
        channel = session.get(Channel, ids["channel"])
        set_provider(session, channel, "payment_gateway", GATEWAY, {"merchant_id": "test", "incremental_auth": incremental})

    with app.app_context():
        app.extensions["vectis.db"].run(work)
    return ids


def placed(client, token=None, card="4242424242424242", quantity=2) -> str:
    cart = ready_cart(client, token, card=card, quantity=quantity)
    answer = post(client, PLACE, {"id": cart, "key": "k"}, token)["data"]["placeOrder"]
    assert answer["errors"] == []
    return answer["order"]["id"]


def modify(client, order_id, token, quantity, key="m-1", reason="buyer called"):
    return post(client, MODIFY, {"id": order_id, "input": {"lines": [{"sku": "MUG-1", "quantity": quantity}],
                                                           "idempotencyKey": key, "reason": reason}},
                token)["data"]["modifyOrder"]


def gateway_amounts(app):
    return sorted((a.status, a.amount.amount) for a in mock(app)._authorizations.values())


def state(app):
    """Everything a refused modification must leave alone."""
    return ([(line.sku, line.quantity, line.line_total) for line in rows(app, OrderLine)],
            [(o.total, o.subtotal, o.state) for o in rows(app, Order)],
            sorted((p.type, p.state, p.amount) for p in rows(app, PaymentTransaction) if p.order_id is not None),
            [(t.amount, t.payment_transaction_id) for t in rows(app, PaymentTender)],
            sorted((r.state, r.quantity) for r in rows(app, Reservation)),
            [(level.on_hand, level.reserved) for level in rows(app, StockLevel)], rows(app, OrderVersion),
            gateway_amounts(app))


def test_an_increase_is_an_incremental_authorisation_of_the_same_card(app, client):
    shop(app, incremental=True)
    order_id = placed(client)
    staff = signed_in(app, client, "sales")

    answer = modify(client, order_id, staff, 3)

    assert answer["errors"] == []
    order = answer["order"]
    assert order["total"] == {"amount": "31.90"} and order["lines"] == [{"sku": "MUG-1", "quantity": 3}]
    assert order["tenders"] == [{"type": "card", "amount": {"amount": "31.90"}, "state": "authorized"}]
    # one authorisation at the gateway, raised in place
    assert gateway_amounts(app) == [("authorized", Decimal("31.90"))]
    authorization = [p for p in rows(app, PaymentTransaction) if p.type == "authorization"]
    assert [(p.state, p.amount) for p in authorization] == [("authorized", Decimal("31.90"))]
    adjustments = [p for p in rows(app, PaymentTransaction) if p.type == "adjustment"]
    assert [(p.amount, p.parent_id, p.idempotency_key.endswith(":t0:a0")) for p in adjustments] == [
        (Decimal("31.90"), authorization[0].id, True)]
    # stock follows exactly: 3 held for the order
    assert stock(app) == (5, 3)
    assert sorted((r.state, r.quantity) for r in rows(app, Reservation)) == [("confirmed", 3), ("released", 2)]
    assert [(v["version"], v["total"]["amount"], v["actor"]) for v in order["versions"]] == [
        (1, "22.90", "system:placed"), (2, "31.90", "sales@example.test")]


def test_an_increase_without_incremental_auth_voids_and_authorises_again(app, client, calls):
    shop(app, incremental=False)
    order_id = placed(client)
    staff = signed_in(app, client, "sales")
    first = mock(app)._authorizations.copy()

    answer = modify(client, order_id, staff, 3)

    assert answer["errors"] == []
    assert answer["order"]["tenders"] == [{"type": "card", "amount": {"amount": "31.90"}, "state": "authorized"}]
    # a new authorisation for the new total; the old one voided once, after the commit
    assert gateway_amounts(app) == [("authorized", Decimal("31.90")), ("voided", Decimal("22.90"))]
    assert dict(calls.voids) == {next(iter(first)): 1}
    payments = sorted((p.type, p.state, p.amount, p.actor) for p in rows(app, PaymentTransaction))
    assert payments == [("authorization", "authorized", Decimal("31.90"), "system:modify"),
                        ("authorization", "voided", Decimal("22.90"), "anonymous"),
                        ("void", "succeeded", Decimal("22.90"), "system:modify")]
    tender = rows(app, PaymentTender)[0]
    kept = [p for p in rows(app, PaymentTransaction) if p.state == "authorized"][0]
    assert (tender.payment_transaction_id, tender.amount) == (kept.id, Decimal("31.90"))
    assert stock(app) == (5, 3)


@pytest.mark.parametrize("incremental", [True, False])
def test_a_decrease_lowers_the_authorisation_and_gives_stock_back(app, client, incremental):
    shop(app, incremental=incremental)
    order_id = placed(client, quantity=3)
    staff = signed_in(app, client, "admin")

    answer = modify(client, order_id, staff, 1)

    assert answer["errors"] == []
    assert answer["order"]["total"] == {"amount": "13.90"}
    assert answer["order"]["tenders"] == [{"type": "card", "amount": {"amount": "13.90"}, "state": "authorized"}]
    assert [(p.type, p.amount) for p in rows(app, PaymentTransaction) if p.type == "authorization"] == [
        ("authorization", Decimal("13.90"))]
    # lowered at the gateway after commit (a partial void needs no incremental capability)
    assert gateway_amounts(app) == [("authorized", Decimal("13.90"))]
    lowered = [(p.type, p.amount, p.idempotency_key.endswith(":t0:lower")) for p in rows(app, PaymentTransaction)
               if p.type == "adjustment"]
    assert lowered == [("adjustment", Decimal("13.90"), True)]
    assert stock(app) == (5, 1)


def test_stock_short_refuses_and_undoes_the_incremental_authorisation(app, client):
    shop(app, on_hand=5, incremental=True)
    order_id = placed(client)
    staff = signed_in(app, client, "sales")
    before = state(app)

    answer = modify(client, order_id, staff, 6)

    assert answer == {"order": None, "errors": [{"code": "OUT_OF_STOCK", "field": "input.lines.0",
                                                 "message": "input.lines.0: 6 of 'MUG-1' requested, 5 available"}]}
    # the increase was asked at the gateway, then lowered again when the transaction rolled back
    after = state(app)
    assert after[:7] == before[:7]
    assert gateway_amounts(app) == [("authorized", Decimal("22.90"))]
    undone = [p for p in rows(app, PaymentTransaction) if p.type == "adjustment"]
    assert [(p.order_id, p.amount, p.idempotency_key.endswith(":a0:undo")) for p in undone] == [
        (None, Decimal("22.90"), True)]
    # a retry with the same key is a new attempt (a1), not the undone answer replayed
    assert modify(client, order_id, staff, 4)["errors"] == []
    assert gateway_amounts(app) == [("authorized", Decimal("40.90"))]


def test_a_cap_violation_refuses_with_nothing_changed(app, client):
    shop(app, incremental=True)
    variant_caps(app, max_per_order=3)
    order_id = placed(client)
    staff = signed_in(app, client, "sales")
    before = state(app)

    answer = modify(client, order_id, staff, 4)

    assert answer["order"] is None
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("MMOQ_ABOVE_MAX", "input.lines")]
    assert state(app) == before


@pytest.mark.parametrize("incremental", [True, False])
def test_a_declined_reauthorisation_changes_nothing(app, client, incremental):
    shop(app, on_hand=20, incremental=incremental)
    order_id = placed(client, card=LIMITED)
    staff = signed_in(app, client, "sales")
    before = state(app)

    answer = modify(client, order_id, staff, 12)  # 12 × 8.00 + 4.90 = 100.90, above the card's 100.00

    assert answer["order"] is None
    assert [(e["code"], e["field"]) for e in answer["errors"]] == [("PAYMENT_DECLINED", "tenders[0]")]
    assert "limit does not cover" in answer["errors"][0]["message"]
    after = state(app)
    assert after[:7] == before[:7]
    expected = [("authorized", Decimal("22.90"))] if incremental else [("authorized", Decimal("22.90")),
                                                                        ("failed", Decimal("100.90"))]
    assert after[7] == expected


def test_a_captured_order_is_refused(app, client):
    shop(app)
    order_id = placed(client)
    staff = signed_in(app, client, "admin")
    payment = [p for p in rows(app, PaymentTransaction) if p.type == "authorization"][0]
    assert post(client, CAPTURE, {"id": str(payment.id)}, staff)["data"]["capturePayment"]["errors"] == []
    before = state(app)

    answer = modify(client, order_id, staff, 3)

    number = rows(app, Order)[0].number
    assert answer == {"order": None, "errors": [{
        "code": "ALREADY_CAPTURED", "field": "orderId",
        "message": f"orderId: tenders[0] of order {number} was captured; refund it and order again instead"}]}
    assert state(app) == before


def test_every_version_is_kept_and_a_retried_key_changes_nothing(app, client, calls):
    shop(app, incremental=True)
    order_id = placed(client)
    staff = signed_in(app, client, "sales")

    assert modify(client, order_id, staff, 3, key="m-1", reason="one more")["errors"] == []
    second = modify(client, order_id, staff, 1, key="m-2", reason="two fewer")
    again = modify(client, order_id, staff, 1, key="m-2", reason="two fewer")

    assert second["errors"] == [] and again == second
    versions = second["order"]["versions"]
    assert [(v["version"], v["total"]["amount"], v["reason"]) for v in versions] == [
        (1, "22.90", "as placed"), (2, "31.90", "one more"), (3, "13.90", "two fewer")]
    assert [[(line["sku"], line["quantity"], line["line_total"]) for line in v["lines"]] for v in versions] == [
        [("MUG-1", 2, "18.00")], [("MUG-1", 3, "27.00")], [("MUG-1", 1, "9.00")]]
    assert len(rows(app, OrderVersion)) == 3
    assert gateway_amounts(app) == [("authorized", Decimal("13.90"))]
    modified = [e.payload for e in rows(app, OutboxEvent) if e.type == "order.modified"]
    assert [(e["order_id"], e["version"], e["previous_total"], e["total"], e["lines"]) for e in modified] == [
        (order_id, 2, "22.90", "31.90", 1), (order_id, 3, "31.90", "13.90", 1)]  # the retry emits nothing


def test_buyers_modify_their_own_orders_only_where_the_channel_allows(app, client):
    shop(app)
    buyer = customer(app, client)
    order_id = placed(client, buyer)
    admin = signed_in(app, client, "admin")

    refused = modify(client, order_id, buyer, 3)
    number = rows(app, Order)[0].number
    assert refused == {"order": None, "errors": [{
        "code": "PERMISSION_DENIED", "field": "orderId",
        "message": f"orderId: you may not modify order {number}: this channel does not let buyers change their orders"}]}
    assert post(client, ALLOW, {"slug": "web", "may": True}, admin)["data"]["setChannelOrderModification"][
        "errors"] == []

    answer = modify(client, order_id, buyer, 3)

    assert answer["errors"] == [] and answer["order"]["total"] == {"amount": "31.90"}
    stranger = customer(app, client, "eve@example.test")
    assert modify(client, order_id, stranger, 1, key="m-x")["errors"][0]["code"] == "NOT_FOUND"


def test_bad_input_is_refused_naming_the_field(app, client):
    shop(app)
    order_id = placed(client)
    staff = signed_in(app, client, "sales")
    before = state(app)

    empty = post(client, MODIFY, {"id": order_id, "input": {"lines": [], "idempotencyKey": "k"}}, staff)
    zero = modify(client, order_id, staff, 0)
    unknown = post(client, MODIFY, {"id": order_id, "input": {"lines": [{"sku": "NOPE", "quantity": 1}],
                                                              "idempotencyKey": "k"}}, staff)

    assert empty["data"]["modifyOrder"]["errors"] == [{
        "code": "INVALID_INPUT", "field": "input.lines",
        "message": "input.lines: an order keeps at least one line; cancel it instead"}]
    assert [(e["code"], e["field"]) for e in zero["errors"]] == [("INVALID_QUANTITY", "input.lines.0.quantity")]
    assert [(e["code"], e["field"]) for e in unknown["data"]["modifyOrder"]["errors"]] == [
        ("NOT_FOUND", "input.lines.0.sku")]
    assert state(app) == before


def test_store_credit_and_gift_card_legs_adjust_their_holds(app, client):
    from runtime.tenders import ledger
    from tests.runtime.test_carts_api import store
    from tests.runtime.test_tenders_checkout import CASCADE, CREDIT, GIFT, _customer, _customer_id, publish, tenders

    store(app, capture_mode="AUTHORIZE")
    admin = signed_in(app, client, "admin")
    buyer = _customer(app, client)
    post(client, CREDIT, {"input": {"customerId": str(_customer_id(app)), "amount": "6.00", "currency": "EUR",
                                    "idempotencyKey": "k"}}, admin)
    code = post(client, GIFT, {"input": {"count": 1, "amount": "4.50", "currency": "EUR"}}, admin)[
        "data"]["generateGiftCards"]["giftCards"][0]["code"]
    publish(app, CASCADE)
    cart = ready_cart(client, buyer)
    tenders(client, cart, [{"type": "gift_card", "code": code}], buyer)
    order_id = post(client, PLACE, {"id": cart, "key": "k"}, buyer)["data"]["placeOrder"]["order"]["id"]

    def balances():
        with app.extensions["vectis.db"].session() as session:
            return {a.kind: ledger.balance(session, a.id).quantize(Decimal("0.01"))
                    for a in session.exec(ledger.select(ledger.StoredValueAccount)).all()}

    # 22.90 → one cup (4.50 + 4.90 shipping = 9.40): 13.50 less, off the last legs first
    answer = post(client, MODIFY, {"id": order_id, "input": {"lines": [{"sku": "CUP-1", "quantity": 1}],
                                                             "idempotencyKey": "m-1"}}, admin)["data"]["modifyOrder"]

    assert answer["errors"] == []
    assert answer["order"]["tenders"] == [
        {"type": "gift_card", "amount": {"amount": "4.50"}, "state": "authorized"},
        {"type": "store_credit", "amount": {"amount": "4.90"}, "state": "authorized"},
        {"type": "card", "amount": {"amount": "0.00"}, "state": "voided"}]
    assert balances() == {"store_credit": Decimal("1.10"), "gift_card": Decimal("0.00")}
    assert [a.status for a in mock(app)._authorizations.values()] == ["voided"]
    assert answer["order"]["versions"][1]["total"] == {"amount": "9.40"}

    # back up to two mugs: the 13.50 more falls to the last leg still paying, the store credit,
    # which has 1.10 left: refused, nothing changed
    before = state(app), balances()
    refused = post(client, MODIFY, {"id": order_id, "input": {"lines": [{"sku": "MUG-1", "quantity": 2}],
                                                              "idempotencyKey": "m-2"}}, admin)["data"]["modifyOrder"]

    assert refused["order"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INSUFFICIENT_STORE_CREDIT", "tenders[1].amount")]
    assert (state(app), balances()) == before
