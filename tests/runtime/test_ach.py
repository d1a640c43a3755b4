"""ACH-paired tenders: a bank debit (the mock pack's ``ach`` type) paired with a card. Its
settlement is asynchronous: captured once the bank settles it, and voided by
VoidExpiringCardAuths when it did not settle within its 3-day window, once, even when the sweep
runs twice or dies halfway."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from runtime.clock import utcnow
from runtime.payments.expiry import void_expiring_card_auths
from runtime.payments.models import PaymentTransaction
from runtime.tenders.models import CartTender
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import ORDER_TENDERS, mock, tenders

ACH = "mock_gateway.tender_type.ach"
CAPTURE = ("mutation($id: ID!) { capturePayment(paymentId: $id) { payment { state } errors { code field message } } }")
BANK = {"type": "ach", "bankRouting": "110000000", "bankAccount": "000123456789", "amount": "10.00"}


def bank(app):
    return app.extensions["vectis.registry"].get(ACH).value.bank


@pytest.fixture
def paired(app, client):
    """A 22.90 order: 10.00 by bank debit, the rest by card (authorised only)."""
    store(app, capture_mode="AUTHORIZE")
    cart = ready_cart(client)
    assert tenders(client, cart, [BANK])["errors"] == []
    placed = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]
    assert placed["errors"] == []
    cancels = Counter()
    real = bank(app).cancel

    def counted(debit_id, key):
        result = real(debit_id, key)
        cancels[debit_id] += 1
        return result

    bank(app).cancel = counted
    return placed["order"]["id"], cancels


def test_the_bank_debit_is_a_tender_whose_account_number_is_never_kept(app, client, paired):
    order_id, _cancels = paired
    order = post(client, ORDER_TENDERS, {"id": order_id}, signed_in(app, client, "sales"))["data"]["order"]
    assert [(t["type"], t["amount"]["amount"], t["state"], t["gateway"]) for t in order["tenders"]] == [
        ("ach", "10.00", "authorized", ACH), ("card", "12.90", "authorized", "mock_gateway.payment_gateway.mock")]
    details = rows(app, CartTender)[0].details
    assert "000123456789" not in str(details) and details["last4"] == "6789"
    assert [d.status for d in bank(app)._debits.values()] == ["pending"]


def test_bad_bank_details_are_refused_naming_the_field(app, client):
    store(app, capture_mode="AUTHORIZE")
    cart = ready_cart(client)
    answer = tenders(client, cart, [{**BANK, "bankRouting": "12"}])
    assert answer["errors"] == [{"code": "INVALID_TENDER", "field": "tenders[0].bankRouting",
                                 "message": "tenders[0].bankRouting: a bank debit needs the 9-digit routing number"}]
    assert rows(app, CartTender) == []


def test_a_debit_is_captured_only_once_the_bank_settled_it(app, client, paired):
    staff = signed_in(app, client, "admin")
    debit = [p for p in rows(app, PaymentTransaction) if p.gateway == ACH][0]

    early = post(client, CAPTURE, {"id": str(debit.id)}, staff)["data"]["capturePayment"]
    assert early["errors"][0]["code"] == "PAYMENT_STATE_INVALID" and "pending, not settled" in early["errors"][0]["message"]
    bank(app).settle(debit.gateway_reference)
    settled = post(client, CAPTURE, {"id": str(debit.id)}, staff)["data"]["capturePayment"]

    assert settled == {"payment": {"state": "captured"}, "errors": []}
    # the sweep leaves a captured debit alone
    with app.app_context():
        assert void_expiring_card_auths(app, now=utcnow() + timedelta(days=4)) == Counter()


def test_an_unsettled_debit_is_voided_after_its_window_once_even_when_the_sweep_runs_twice(app, client, paired):
    _order_id, cancels = paired
    with app.app_context():
        assert void_expiring_card_auths(app, now=utcnow() + timedelta(days=2)) == Counter()  # inside the window
        later = utcnow() + timedelta(days=3, seconds=1)
        assert void_expiring_card_auths(app, now=later) == Counter({"voided": 1})
        assert void_expiring_card_auths(app, now=later) == Counter()

    assert list(cancels.values()) == [1]
    assert [d.status for d in bank(app)._debits.values()] == ["cancelled"]
    states = sorted((p.gateway.split(".")[-1], p.type, p.state) for p in rows(app, PaymentTransaction))
    # the card's 7-day window has not passed: it stays authorised
    assert states == [("ach", "authorization", "authorization_expired"), ("ach", "void", "succeeded"),
                      ("mock", "authorization", "authorized")]


def test_a_sweep_killed_after_the_bank_answered_cancels_once_when_run_again(app, client, paired):
    _order_id, cancels = paired
    real = bank(app).cancel

    def dies(debit_id, key):
        real(debit_id, key)
        raise SystemExit("killed after the bank answered, before the commit")

    bank(app).cancel = dies
    later = utcnow() + timedelta(days=8)
    with app.app_context():
        with pytest.raises(SystemExit):
            void_expiring_card_auths(app, now=later)
    # the card's batch had committed; the debit's batch rolled back
    assert [p.state for p in rows(app, PaymentTransaction) if p.gateway == ACH] == ["authorized"]
    bank(app).cancel = real

    with app.app_context():
        assert void_expiring_card_auths(app, now=later) == Counter({"voided": 1})

    debit = list(bank(app)._debits.values())[0]
    assert debit.status == "cancelled"
    # the second run's cancel reached the bank with the same key: answered from its record, not done again
    assert len([k for k in bank(app)._keys if k.endswith(":expiry-void")]) == 1
    assert [a.status for a in mock(app)._authorizations.values()] == ["voided"]


def test_a_debit_the_bank_settled_late_is_left_for_its_capture(app, client, paired):
    debit = [p for p in rows(app, PaymentTransaction) if p.gateway == ACH][0]
    bank(app).settle(debit.gateway_reference)
    with app.app_context():
        assert void_expiring_card_auths(app, now=utcnow() + timedelta(days=4)) == Counter({"settled": 1})
    assert [p.state for p in rows(app, PaymentTransaction) if p.gateway == ACH] == ["authorized"]
    assert Decimal(debit.amount) == Decimal("10.00")


def test_a_bank_debit_cannot_change_its_amount_so_modifying_its_order_is_refused(app, client):
    from tests.runtime.test_order_modify import MODIFY

    store(app, capture_mode="AUTHORIZE")
    cart = ready_cart(client)
    assert tenders(client, cart, [{key: value for key, value in BANK.items() if key != "amount"}])["errors"] == []
    order_id = post(client, PLACE, {"id": cart, "key": "k"})["data"]["placeOrder"]["order"]["id"]
    staff = signed_in(app, client, "sales")
    before = [(p.type, p.state, p.amount) for p in rows(app, PaymentTransaction)]

    answer = post(client, MODIFY, {"id": order_id, "input": {"lines": [{"sku": "MUG-1", "quantity": 3}],
                                                             "idempotencyKey": "m"}}, staff)["data"]["modifyOrder"]

    assert answer == {"order": None, "errors": [{"code": "TENDER_NOT_ADJUSTABLE", "field": "tenders[0]",
                                                 "message": "tenders[0]: the 'ach' tender type cannot change an authorised amount"}]}
    assert [(p.type, p.state, p.amount) for p in rows(app, PaymentTransaction)] == before == [
        ("authorization", "authorized", Decimal("22.90"))]
    assert [d.amount.amount for d in bank(app)._debits.values()] == [Decimal("22.90")]
