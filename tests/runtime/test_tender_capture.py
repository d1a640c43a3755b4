"""Staff capture on every tender type: store credit and gift cards spend their hold (a partial
capture holds the rest again), terms become a receivable with a due date, a card is captured at
its gateway; each exactly once, with a key."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from runtime.clock import utcnow
from runtime.payments.models import PaymentTransaction
from runtime.tenders import ledger
from runtime.tenders.models import StoredValueEntry
from runtime.tenders.receivables import NetTermsReceivable
from runtime.tenders.terms import open_credit, terms_of
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import b2b, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import (CASCADE, CREDIT, GIFT, ORDER_TENDERS, TERMS, _customer, _customer_id,
                                                  mock, publish, tenders)

CAPTURE = ("mutation($id: ID!, $amount: String) { capturePayment(paymentId: $id, amount: $amount) {"
           " payment { state capturedAmount { amount } } operation { type amount { amount } }"
           " errors { code field message } } }")
REFUND_AMOUNT = ("mutation($id: ID!, $amount: String) { refundPayment(paymentId: $id, amount: $amount) {"
                 " payment { state } errors { code message } } }")
REFUND = ("mutation($id: ID!) { refundPayment(paymentId: $id) { payment { state } operation { type amount { amount } }"
          " errors { code message } } }")


def three_tender_order(app, client):
    """22.90 paid by a 4.50 gift card, 6.00 of store credit and a card for 12.40 (authorised only)."""
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
    placed = post(client, PLACE, {"id": cart, "key": "k"}, buyer)["data"]["placeOrder"]
    assert placed["errors"] == []
    return admin, {p.gateway.split(".")[-1]: p.id for p in rows(app, PaymentTransaction)}


def balances(app):
    with app.extensions["vectis.db"].session() as session:
        return {a.kind: ledger.balance(session, a.id).quantize(Decimal("0.01"))
                for a in session.exec(ledger.select(ledger.StoredValueAccount)).all()}


def test_capturing_each_leg_spends_it_through_its_tender_type_once(app, client):
    admin, ids = three_tender_order(app, client)

    gift = post(client, CAPTURE, {"id": str(ids["gift_card"])}, admin)["data"]["capturePayment"]
    card = post(client, CAPTURE, {"id": str(ids["mock"])}, admin)["data"]["capturePayment"]
    credit = post(client, CAPTURE, {"id": str(ids["store_credit"]), "amount": "2.00"}, admin)["data"]["capturePayment"]

    assert gift == {"payment": {"state": "captured", "capturedAmount": {"amount": "4.50"}},
                    "operation": {"type": "capture", "amount": {"amount": "4.50"}}, "errors": []}
    assert card["errors"] == [] and card["payment"]["state"] == "captured"
    assert [a.status for a in mock(app)._authorizations.values()] == ["captured"]
    assert credit["payment"] == {"state": "partially_captured", "capturedAmount": {"amount": "2.00"}}
    # the balances do not move (the holds already took them); the holds became debits
    assert balances(app) == {"store_credit": Decimal("0.00"), "gift_card": Decimal("0.00")}
    entries = [(e.kind, e.amount) for e in rows(app, StoredValueEntry) if e.kind != "credit"]
    assert entries == [("hold", Decimal("4.50")), ("hold", Decimal("6.00")),
                       ("release", Decimal("4.50")), ("debit", Decimal("4.50")),
                       ("release", Decimal("6.00")), ("debit", Decimal("2.00")), ("hold", Decimal("4.00"))]

    rest = post(client, CAPTURE, {"id": str(ids["store_credit"])}, admin)["data"]["capturePayment"]
    again = post(client, CAPTURE, {"id": str(ids["gift_card"])}, admin)["data"]["capturePayment"]

    assert rest["payment"] == {"state": "captured", "capturedAmount": {"amount": "6.00"}}
    assert again["payment"] is None and again["errors"][0]["code"] == "PAYMENT_STATE_INVALID"
    spent = [(e.kind, e.amount) for e in rows(app, StoredValueEntry)][-2:]
    assert spent == [("release", Decimal("4.00")), ("debit", Decimal("4.00"))]
    assert balances(app) == {"store_credit": Decimal("0.00"), "gift_card": Decimal("0.00")}
    captures = sorted((p.gateway.split(".")[-1], p.amount) for p in rows(app, PaymentTransaction) if p.type == "capture")
    assert captures == [("gift_card", Decimal("4.50")), ("mock", Decimal("12.40")), ("store_credit", Decimal("2.00")),
                        ("store_credit", Decimal("4.00"))]

    # a captured store-credit leg refunds back to the balance
    refunded = post(client, REFUND, {"id": str(ids["store_credit"])}, admin)["data"]["refundPayment"]
    assert refunded["errors"] == [] and refunded["payment"] == {"state": "refunded"}
    assert balances(app)["store_credit"] == Decimal("6.00")


def test_a_capture_key_repeats_nothing(app, client):
    three_tender_order(app, client)
    hold = [e for e in rows(app, StoredValueEntry) if e.kind == "hold" and e.amount == Decimal("6.00")][0]

    def capture(session):
        return ledger.capture_hold(session, hold.id, Decimal("6.00"), "capture-key")

    first = app.extensions["vectis.db"].run(capture)
    second = app.extensions["vectis.db"].run(capture)

    assert first[0].id == second[0].id and first[1] is None
    assert [e.kind for e in rows(app, StoredValueEntry)].count("debit") == 1


def test_capturing_terms_opens_a_receivable_due_after_the_terms(app, client):
    store(app, capture_mode="AUTHORIZE")
    admin = signed_in(app, client, "admin")
    acme = b2b(app, client)
    buyer = acme["tokens"]["buyer@acme.test"]
    post(client, TERMS, {"input": {"accountId": str(acme["account"]), "creditLimit": "50.00", "currency": "EUR",
                                   "termsDays": 30}}, admin)
    publish(app, CASCADE)
    placed = post(client, PLACE, {"id": ready_cart(client, buyer), "key": "k"}, buyer)["data"]["placeOrder"]
    payment = rows(app, PaymentTransaction)[0]
    assert payment.gateway == "core.tender_type.net_terms"

    captured = post(client, CAPTURE, {"id": str(payment.id)}, admin)["data"]["capturePayment"]

    assert captured["errors"] == [] and captured["payment"]["state"] == "captured"
    receivable = rows(app, NetTermsReceivable)
    assert [(r.amount, r.state, r.order_id) for r in receivable] == [(Decimal("22.90"), "open", int(placed["order"]["id"]))]
    assert abs(receivable[0].due_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=5)
    order = post(client, ORDER_TENDERS, {"id": placed["order"]["id"]}, buyer)["data"]["order"]
    assert order["tenders"][0]["dueAt"].startswith(receivable[0].due_at.date().isoformat())
    # the receivable still uses open credit: 50.00 − 22.90
    with app.extensions["vectis.db"].session() as session:
        assert open_credit(session, terms_of(session, acme["account"], "EUR")) == Decimal("27.10")
    again = post(client, CAPTURE, {"id": str(payment.id)}, admin)["data"]["capturePayment"]
    assert again["errors"][0]["code"] == "PAYMENT_STATE_INVALID" and len(rows(app, NetTermsReceivable)) == 1
    # a partial refund is a credit note of its amount: the rest stays owed and keeps its open credit
    partial = post(client, REFUND_AMOUNT, {"id": str(payment.id), "amount": "10.00"}, admin)["data"]["refundPayment"]
    assert partial["errors"] == []
    assert [(r.amount, r.state) for r in rows(app, NetTermsReceivable)] == [(Decimal("12.90"), "open")]
    with app.extensions["vectis.db"].session() as session:
        assert open_credit(session, terms_of(session, acme["account"], "EUR")) == Decimal("37.10")
    rest = post(client, REFUND_AMOUNT, {"id": str(payment.id), "amount": None}, admin)["data"]["refundPayment"]
    assert rest["errors"] == [] and rest["payment"]["state"] == "refunded"
    assert [(r.amount, r.state) for r in rows(app, NetTermsReceivable)] == [(Decimal("0.00"), "credited")]
    with app.extensions["vectis.db"].session() as session:
        assert open_credit(session, terms_of(session, acme["account"], "EUR")) == Decimal("50.00")
