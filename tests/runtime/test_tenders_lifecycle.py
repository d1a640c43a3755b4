"""Cancelling an order undoes every tender once: voids in authorize-only mode, refunds in capture
mode, store credit and gift card balances restored; running the undo again does nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest

from runtime.orders.models import Order
from runtime.payments.models import PaymentTransaction
from runtime.tenders import ledger
from runtime.tenders.lifecycle import settle_cancelled_tenders, undo_order_tenders
from runtime.tenders.models import StoredValueAccount
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_labels import drain
from tests.runtime.test_tenders_checkout import (APPROVE, CASCADE, CREDIT, GIFT, GatewayCalls, _customer, _customer_id,
                                                  calls, mock, publish, tenders)  # noqa: F401

CANCEL = ('mutation($id: ID!) { transitionOrder(orderId: $id, transition: "cancel") { order { state paymentStatus }'
          ' errors { code message } } }')


def three_card_order(app, client):
    cart = ready_cart(client)
    tenders(client, cart, [{"type": "card", "token": APPROVE[0], "amount": "5.00"},
                           {"type": "card", "token": APPROVE[1], "amount": "7.00"},
                           {"type": "card", "token": APPROVE[2]}])
    placed = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]
    assert placed["errors"] == []
    return placed["order"]["id"]


@pytest.mark.parametrize("mode, undo, status", [("AUTHORIZE", "voided", "voided"),
                                                ("AUTHORIZE_AND_CAPTURE", "refunded", "refunded")])
def test_cancelling_a_three_tender_order_undoes_each_leg_exactly_once(app, client, calls, mode, undo, status):
    store(app, capture_mode=mode)
    order_id = three_card_order(app, client)
    admin = signed_in(app, client, "admin")

    cancelled = post(client, CANCEL, {"id": order_id}, admin)["data"]["transitionOrder"]
    drain(app)  # the undo runs after commit: in-process, or on a worker with Redis

    assert cancelled["errors"] == []
    authorizations = mock(app)._authorizations
    assert sorted(a.status for a in authorizations.values()) == [undo] * 3
    counted = calls.voids if undo == "voided" else calls.refunds
    assert sorted(counted.values()) == [1, 1, 1] and set(counted) == set(authorizations)
    kind = "void" if undo == "voided" else "refund"
    children = [(p.type, p.amount, p.actor) for p in rows(app, PaymentTransaction) if p.type == kind]
    assert sorted(children) == [(kind, Decimal("5.00"), "system:cancel"), (kind, Decimal("7.00"), "system:cancel"),
                                (kind, Decimal("10.90"), "system:cancel")]
    assert [p.state for p in rows(app, PaymentTransaction) if p.type == "authorization"] == [undo] * 3
    assert (rows(app, Order)[0].state, rows(app, Order)[0].payment_status) == ("cancelled", status)
    # when the effect runs again (a redelivered job) and the settle job runs: nothing more happens
    assert undo_order_tenders(app, [int(order_id)]) == []
    with app.app_context():
        assert settle_cancelled_tenders(app) == 0
    assert sorted(counted.values()) == [1, 1, 1]


def test_cancelling_gives_store_credit_and_gift_card_balances_back(app, client):
    store(app, capture_mode="AUTHORIZE_AND_CAPTURE")
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
    assert _balances(app) == {"gift_card": Decimal("0"), "store_credit": Decimal("0")}

    assert post(client, CANCEL, {"id": order_id}, admin)["data"]["transitionOrder"]["errors"] == []
    drain(app)

    assert _balances(app) == {"gift_card": Decimal("4.50"), "store_credit": Decimal("6.00")}
    assert [p.state for p in rows(app, PaymentTransaction) if p.type == "authorization"] == ["refunded"] * 3
    assert undo_order_tenders(app, [int(order_id)]) == []
    assert _balances(app) == {"gift_card": Decimal("4.50"), "store_credit": Decimal("6.00")}


def _balances(app):
    with app.extensions["vectis.db"].session() as session:
        accounts = session.exec(ledger.select(StoredValueAccount)).all()
        return {a.kind: ledger.balance(session, a.id).quantize(Decimal("0.01")) for a in accounts}


FRAUD_CARD = "4000000000009235"
HELD = "query($id: ID!) { order(id: $id) { state paymentStatus fraudStatus fraudDetails tenders { type state } } }"
RELEASE = ("mutation($id: ID!) { releaseFraudHold(orderId: $id) { order { state paymentStatus fraudStatus }"
           " errors { code field message } } }")
REJECT = ("mutation($id: ID!, $reason: String!) { rejectFraudHold(orderId: $id, reason: $reason) {"
          " order { state paymentStatus fraudStatus } errors { code field message } } }")
SHIP = ('mutation($id: ID!) { transitionOrder(orderId: $id, transition: "ship") { order { state }'
        ' errors { code message } } }')


def held_order(app, client):
    store(app, capture_mode="AUTHORIZE")
    cart = ready_cart(client)
    tenders(client, cart, [{"type": "card", "token": APPROVE[0], "amount": "5.00"},
                           {"type": "card", "token": FRAUD_CARD}])
    placed = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]
    assert placed["errors"] == []
    return placed["order"]["id"]


def test_a_review_answer_holds_the_order_and_nothing_ships_until_released(app, client):
    order_id = held_order(app, client)
    staff = signed_in(app, client, "sales")

    held = post(client, HELD, {"id": order_id}, staff)["data"]["order"]
    assert {k: held[k] for k in ("state", "paymentStatus", "fraudStatus", "tenders")} == {
        "state": "held_for_review", "paymentStatus": "pending", "fraudStatus": "review",
        "tenders": [{"type": "card", "state": "authorized"}, {"type": "card", "state": "pending"}]}
    assert held["fraudDetails"]["held"] == [{"position": 1, "type": "card", "gateway": "mock_gateway.payment_gateway.mock",
                                            "code": "fraud_review",
                                            "message": "The authorization is held for fraud review."}]
    shipped = post(client, SHIP, {"id": order_id}, staff)["data"]["transitionOrder"]
    assert shipped["order"] is None and shipped["errors"][0]["code"] == "NOT_FROM_STATE"
    buyer_refused = post(client, RELEASE, {"id": order_id})
    assert buyer_refused["errors"][0]["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")

    released = post(client, RELEASE, {"id": order_id}, staff)["data"]["releaseFraudHold"]

    assert released == {"order": {"state": "paid", "paymentStatus": "authorized", "fraudStatus": "released"}, "errors": []}
    assert [p.state for p in rows(app, PaymentTransaction)] == ["authorized", "authorized"]
    assert {a.status for a in mock(app)._authorizations.values()} == {"authorized"}
    again = post(client, RELEASE, {"id": order_id}, staff)["data"]["releaseFraudHold"]
    assert again["errors"] == [{"code": "NOT_HELD_FOR_REVIEW", "field": "orderId",
                                "message": f"orderId: order {rows(app, Order)[0].number} is paid, not held for review"}]
    assert post(client, SHIP, {"id": order_id}, staff)["data"]["transitionOrder"]["errors"] == []


def test_rejecting_a_hold_cancels_the_order_and_voids_every_tender_once(app, client, calls):
    order_id = held_order(app, client)
    staff = signed_in(app, client, "sales")
    assert post(client, REJECT, {"id": order_id, "reason": " "}, staff)["data"]["rejectFraudHold"]["errors"] == [
        {"code": "INVALID_TENDER", "field": "reason", "message": "reason: say why, in 1 to 500 characters"}]
    assert rows(app, Order)[0].state == "held_for_review"

    rejected = post(client, REJECT, {"id": order_id, "reason": "stolen card reported"}, staff)["data"]["rejectFraudHold"]
    drain(app)

    assert rejected == {"order": {"state": "cancelled", "paymentStatus": "pending", "fraudStatus": "rejected"},
                        "errors": []}
    assert sorted(p.state for p in rows(app, PaymentTransaction) if p.type == "authorization") == ["failed", "voided"]
    assert sorted(calls.voids.values()) == [1, 1]
    assert rows(app, Order)[0].fraud_details["reason"] == "stolen card reported"
