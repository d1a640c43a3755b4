"""Payments: pay_order with each mock card, rollback voids, staff capture/void/refund."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from runtime.channels.models import Channel
from runtime.errors import BusinessError, BusinessErrors
from runtime.orders import service as orders
from runtime.orders.models import Order
from runtime.payments import service as payments
from runtime.payments.models import PaymentTransaction
from runtime.state_machines.models import StateTransition
from tests.runtime.test_orders_data import (DECLINE, FRAUD, MOCK, STAFF, SUCCESS, TIMEOUT, StatementCounter,  # noqa: F401
                                            customer, draft, events, live, shop)


def gateway(app):
    return app.extensions["vectis.registry"].get(MOCK).value


def place_and_pay(database, shop, *, channel="trade", card=SUCCESS, key="cart1:k", fail_after=False, **kwargs):
    """One transaction: create the order and pay it, as the checkout does."""
    actor = customer(shop)

    def work(session):
        order = orders.create_order(session, draft(shop, channel=channel, user="carla", **kwargs), actor)
        payment = payments.pay_order(session, order, channel=session.get(Channel, shop[channel]), actor=actor,
                                     idempotency_key=f"order:{key}", token=card)
        if fail_after:
            raise RuntimeError("a later checkout stage failed")
        return order, payment

    return database.run(work)


def table(database, model):
    with database.session() as session:
        return session.exec(select(model).order_by(model.id)).all()


def test_authorize_only_channel_authorizes_and_the_order_is_paid(app, shop, database):
    # when an order on the authorize-only channel is paid with the success card
    order, payment = place_and_pay(database, shop)

    # then one authorization row, authorized, for the order's total
    rows = table(database, PaymentTransaction)
    assert [(r.type, r.state, r.amount, r.captured_amount, r.currency, r.gateway, r.fraud_hold) for r in rows] == [
        ("authorization", "authorized", Decimal("50.38"), Decimal("0"), "EUR", MOCK, False)]
    assert gateway(app)._authorizations[payment.gateway_reference].status == "authorized"
    # and the order is paid, its payment status authorized
    saved = table(database, Order)[0]
    assert (saved.state, saved.payment_status, saved.number) == ("paid", "authorized", order.number)
    history = table(database, StateTransition)
    assert [(h.entity_type, h.transition, h.from_state, h.to_state, h.actor) for h in history] == [
        ("order", "place", "draft", "placed", "carla@example.test"),
        ("order", "pay", "placed", "paid", "carla@example.test"),
        ("payment_transaction", "authorize", "pending", "authorized", "carla@example.test")]
    assert [t for t, _ in events(database)] == ["order.created", "order.status_changed", "order.status_changed",
                                                "payment.authorized"]
    assert events(database, "payment.")[0][1] == {"payment_id": str(payment.id), "gateway": MOCK, "amount": "50.38",
                                                  "currency": "EUR", "reference": payment.gateway_reference,
                                                  "order_id": str(order.id)}


def test_capture_mode_authorizes_and_captures_in_full(app, shop, database):
    order, payment = place_and_pay(database, shop, channel="web")

    rows = table(database, PaymentTransaction)
    assert [(r.type, r.state, r.amount, r.captured_amount, r.parent_id) for r in rows] == [
        ("authorization", "captured", Decimal("50.38"), Decimal("50.38"), None),
        ("capture", "succeeded", Decimal("50.38"), Decimal("0"), payment.id)]
    assert gateway(app)._authorizations[payment.gateway_reference].status == "captured"
    saved = table(database, Order)[0]
    assert (saved.state, saved.payment_status) == ("paid", "captured")
    assert [t for t, _ in events(database, "payment.")] == ["payment.authorized", "payment.captured"]
    capture = [h for h in table(database, StateTransition) if h.transition == "capture"][0]
    assert (capture.actor, capture.from_state, capture.to_state) == ("system:checkout", "authorized", "captured")


def test_a_declined_card_leaves_no_order_and_no_payment_but_a_failed_event(app, shop, database):
    with pytest.raises(BusinessError) as declined:
        place_and_pay(database, shop, card=DECLINE)

    assert (declined.value.code, declined.value.field, declined.value.message) == (
        "PAYMENT_DECLINED", "payment", "payment: the card was declined: The issuer declined the card (do not honor).")
    assert table(database, Order) == [] and table(database, PaymentTransaction) == []
    assert table(database, StateTransition) == []
    [(kind, failed)] = events(database)
    assert kind == "payment.failed"
    assert {k: failed[k] for k in ("gateway", "amount", "currency", "operation", "reason")} == {
        "gateway": MOCK, "amount": "50.38", "currency": "EUR", "operation": "authorize",
        "reason": "The issuer declined the card (do not honor)."}


def test_a_gateway_timeout_is_payment_unavailable_and_leaves_nothing(app, shop, database):
    with pytest.raises(BusinessError) as unavailable:
        place_and_pay(database, shop, card=TIMEOUT)

    assert (unavailable.value.code, unavailable.value.field) == ("PAYMENT_UNAVAILABLE", "payment")
    assert unavailable.value.message.startswith("payment: the mock gateway did not answer in time")
    assert table(database, Order) == [] and table(database, PaymentTransaction) == []
    assert [t for t, _ in events(database)] == ["payment.failed"]


def test_a_fraud_review_keeps_the_payment_pending_and_the_order_placed(app, shop, database):
    order, payment = place_and_pay(database, shop, channel="web", card=FRAUD)

    rows = table(database, PaymentTransaction)
    assert [(r.type, r.state, r.fraud_hold, r.error_code) for r in rows] == [
        ("authorization", "pending", True, "fraud_review")]
    saved = table(database, Order)[0]
    assert (saved.state, saved.payment_status) == ("placed", "pending")
    assert gateway(app)._authorizations[payment.gateway_reference].status == "pending"
    assert events(database, "payment.") == []


def test_a_rollback_after_payment_voids_the_authorization_and_a_retry_authorizes_anew(app, shop, database):
    # given a checkout transaction that fails after the payment was authorized
    with pytest.raises(RuntimeError):
        place_and_pay(database, shop, fail_after=True)

    # then no order, the mock authorization is voided, and a void row records it
    auths = list(gateway(app)._authorizations.values())
    assert [a.status for a in auths] == ["voided"]
    assert table(database, Order) == []
    [void] = table(database, PaymentTransaction)
    assert (void.type, void.state, void.order_id, void.amount) == ("void", "succeeded", None, Decimal("50.38"))
    assert void.message == f"void of {auths[0].id}: the order's transaction rolled back"

    # when the client retries the same placeOrder (same idempotency key)
    order, payment = place_and_pay(database, shop)

    # then a new authorization is made (not the voided one replayed) and the order is paid
    assert payment.gateway_reference != auths[0].id
    assert gateway(app)._authorizations[payment.gateway_reference].status == "authorized"
    assert payment.idempotency_key.endswith(":a1")
    assert table(database, Order)[0].state == "paid"


def test_a_serialization_retry_of_the_whole_transaction_pays_once(app, shop, database):
    # given a transaction that pays, then loses a race (retryable) on its first attempt
    attempts = []
    actor = customer(shop)

    def work(session):
        order = orders.create_order(session, draft(shop, channel="web", user="carla"), actor)
        payment = payments.pay_order(session, order, channel=session.get(Channel, shop["web"]), actor=actor,
                                     idempotency_key="order:cart9:k", token=SUCCESS)
        attempts.append(payment.gateway_reference)
        if len(attempts) == 1:
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: simulated race"))
        return payment

    payment = database.run(work)

    # then the first attempt's capture was refunded, the second holds the money
    first, second = (gateway(app)._authorizations[ref] for ref in attempts)
    assert (first.status, second.status) == ("refunded", "captured")
    assert payment.gateway_reference == second.id
    assert [(r.type, r.state, r.order_id is None) for r in table(database, PaymentTransaction)] == [
        ("refund", "succeeded", True), ("authorization", "captured", False), ("capture", "succeeded", False)]


def test_create_order_and_pay_order_statement_count(shop, database, backend):
    actor = customer(shop)

    def work(session):
        channel = session.get(Channel, shop["web"])
        with StatementCounter(database.engine) as counter:
            order = orders.create_order(session, draft(shop, channel="web", user="carla"), actor)
            payments.pay_order(session, order, channel=channel, actor=actor, idempotency_key="order:c:k", token=SUCCESS)
            session.flush()
        return counter

    counter = database.run(work)

    print(f"create_order + pay_order statements ({backend}):", counter.statements)
    # the order INSERT; the gateway and the voided-attempt lookups; then one flush: outbox, the
    # order's UPDATE (number, state, payment status), lines, the payment row, the order's history; then
    # the payment's outbox rows, the capture row and the payment's history
    assert counter.batched(backend) == [
        "INSERT INTO ORDERS", "SELECT CHANNEL_PROVIDER.ID, CHANNEL_PROVIDER.CHANNEL_ID,",
        "SELECT PAYMENT_TRANSACTION.IDEMPOTENCY_KEY FROM", "INSERT INTO EVENT_OUTBOX", "UPDATE ORDERS SET",
        "INSERT INTO ORDER_LINE", "INSERT INTO PAYMENT_TRANSACTION", "INSERT INTO STATE_TRANSITION",
        "INSERT INTO EVENT_OUTBOX", "INSERT INTO PAYMENT_TRANSACTION", "INSERT INTO STATE_TRANSITION"]


# --- staff operations ----------------------------------------------------------------------------


def test_partial_and_final_capture_then_partial_and_full_refund(app, shop, database):
    _order, auth = place_and_pay(database, shop)  # authorize-only channel: 50.38 authorized

    partial = database.run(lambda s: payments.capture_payment(s, STAFF, auth.id, "20.00"))
    rest = database.run(lambda s: payments.capture_payment(s, STAFF, str(auth.id)))
    refund = database.run(lambda s: payments.refund_payment(s, STAFF, auth.id, "0.38"))
    final = database.run(lambda s: payments.refund_payment(s, STAFF, auth.id))

    assert [(r.type, r.amount, r.parent_id) for r in (partial, rest, refund, final)] == [
        ("capture", Decimal("20.00"), auth.id), ("capture", Decimal("30.38"), auth.id),
        ("refund", Decimal("0.38"), auth.id), ("refund", Decimal("50.00"), auth.id)]
    with database.session() as session:
        row = session.get(PaymentTransaction, auth.id)
        order = session.get(Order, row.order_id)
    assert (row.state, row.captured_amount, row.refunded_amount) == ("refunded", Decimal("50.38"), Decimal("50.38"))
    assert order.payment_status == "refunded"
    assert [h.transition for h in table(database, StateTransition) if h.entity_type == "payment_transaction"] == [
        "authorize", "capture_partial", "capture", "refund_partial", "refund"]
    assert [(t, p["amount"]) for t, p in events(database, "payment.")] == [
        ("payment.authorized", "50.38"), ("payment.captured", "20.00"), ("payment.captured", "30.38"),
        ("payment.refunded", "0.38"), ("payment.refunded", "50.00")]
    assert gateway(app)._authorizations[auth.gateway_reference].status == "refunded"


def test_void_an_authorization(app, shop, database):
    _order, auth = place_and_pay(database, shop)

    void = database.run(lambda s: payments.void_payment(s, STAFF, auth.id))

    assert (void.type, void.state, void.amount) == ("void", "succeeded", Decimal("50.38"))
    assert table(database, Order)[0].payment_status == "voided"
    assert gateway(app)._authorizations[auth.gateway_reference].status == "voided"


def test_refused_staff_operations_change_nothing(app, shop, database):
    _order, auth = place_and_pay(database, shop)
    before = (table(database, PaymentTransaction), len(events(database)))

    cases = [
        (lambda s: payments.capture_payment(s, STAFF, auth.id, "60.00"), "INVALID_AMOUNT", "amount",
         "amount: cannot capture 60.00 EUR; 50.38 of 50.38 remains to capture"),
        (lambda s: payments.capture_payment(s, STAFF, auth.id, "1.005"), "INVALID_AMOUNT", "amount",
         "amount: EUR has 2 decimal places, got '1.005'"),
        (lambda s: payments.capture_payment(s, STAFF, auth.id, "-1"), "INVALID_AMOUNT", "amount",
         "amount: expected a positive decimal like \"10.00\", got '-1'"),
        (lambda s: payments.refund_payment(s, STAFF, auth.id, "1.00"), "INVALID_AMOUNT", "amount",
         "amount: cannot refund 1.00 EUR; 0.00 of the 0.00 captured remains to refund"),
        (lambda s: payments.capture_payment(s, STAFF, 999999), "NOT_FOUND", "paymentId", "paymentId: no payment 999999"),
    ]
    for operation, code, field, message in cases:
        with pytest.raises(BusinessError) as refused:
            database.run(operation)
        assert (refused.value.code, refused.value.field, refused.value.message) == (code, field, message)
    with pytest.raises(BusinessErrors) as denied:
        database.run(lambda s: payments.capture_payment(s, customer(shop), auth.id))
    assert [(e.code, e.field) for e in denied.value.errors] == [("PERMISSION_DENIED", "paymentId")]
    assert (table(database, PaymentTransaction), len(events(database))) == before
    assert gateway(app)._authorizations[auth.gateway_reference].status == "authorized"


def test_a_gateway_refusal_of_a_staff_operation_changes_nothing(app, shop, database):
    _order, auth = place_and_pay(database, shop)
    # the processor voided it behind our back (a console action): our row still says authorized
    gateway(app)._authorizations[auth.gateway_reference].status = "voided"
    before = table(database, PaymentTransaction)

    with pytest.raises(BusinessError) as refused:
        database.run(lambda s: payments.capture_payment(s, STAFF, auth.id))

    assert (refused.value.code, refused.value.field) == ("PAYMENT_STATE_INVALID", "paymentId")
    assert refused.value.message.startswith(f"paymentId: transaction_id: cannot capture authorization '{auth.gateway_reference}'")
    assert table(database, PaymentTransaction) == before


def test_a_rolled_back_duplicate_of_a_committed_payment_leaves_its_authorization(app, shop, database):
    # given an order paid under a key
    _order, payment = place_and_pay(database, shop, key="cart5:k")

    # when a concurrent duplicate with the same key gets the same authorization and then fails
    with pytest.raises(IntegrityError):
        place_and_pay(database, shop, key="cart5:k")

    # then the committed order's authorization is not voided, and no void row is written
    assert gateway(app)._authorizations[payment.gateway_reference].status == "authorized"
    assert [(r.type, r.state) for r in table(database, PaymentTransaction)] == [("authorization", "authorized")]
    assert len(table(database, Order)) == 1


def test_concurrent_captures_never_capture_more_than_authorized(app, shop, database):
    from concurrent.futures import ThreadPoolExecutor

    _order, auth = place_and_pay(database, shop)  # 50.38 authorized

    def capture(_):
        with app.app_context():
            try:
                return database.run(lambda s: payments.capture_payment(s, STAFF, auth.id, "30.00")).amount
            except BusinessError as exc:
                return exc.code

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(map(str, pool.map(capture, range(2))))

    assert outcomes == ["30.00", "INVALID_AMOUNT"]
    with database.session() as session:
        assert session.get(PaymentTransaction, auth.id).captured_amount == Decimal("30.00")
    assert gateway(app)._authorizations[auth.gateway_reference].captured.amount == Decimal("30.00")
