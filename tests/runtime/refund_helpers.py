"""Shared set-up of the refund tests: an order paid by a gift card, store credit and a card
(captured at checkout), staff who request and approve, and running the refunds queue."""
from __future__ import annotations

from runtime.jobs import DEFAULT, EVENTS, REFUNDS, get_dispatcher
from runtime.jobs.worker import VectisSimpleWorker, build_worker
from tests.runtime.helpers import login, make_user, signed_in
from tests.runtime.test_carts_api import post, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import CASCADE, CREDIT, GIFT, _customer, _customer_id, publish, tenders

ERRORS = "errors { code field message }"
FIELDS = ("id state amount { amount currency } taxAmount { amount } shippingAmount { amount } approvalsNeeded approvals"
          " requestedBy decidedBy attempts failure legs { position type amount { amount } state gatewayReference"
          " idempotencyKey errorCode }")
SUBMIT = ("mutation($order: ID!, $input: SubmitRefundInput!) { submitRefundForApproval(orderId: $order, input: $input)"
          " { refundRequest { " + FIELDS + " } " + ERRORS + " } }")
DECIDE = ("mutation($id: ID!, $ok: Boolean!, $notes: String) { decideRefundApproval(refundRequestId: $id, approved: $ok,"
          " notes: $notes) { refundRequest { " + FIELDS + " } " + ERRORS + " } }")
RETRY = ("mutation($id: ID!) { retryRefundExecution(refundRequestId: $id) { refundRequest { " + FIELDS + " } "
         + ERRORS + " } }")
CANCEL = ("mutation($id: ID!) { cancelRefundRequest(refundRequestId: $id) { refundRequest { state } " + ERRORS + " } }")
READ = "query($id: ID!) { refundRequest(id: $id) { " + FIELDS + " } }"
ORDER = ("query($id: ID!) { order(id: $id) { paymentStatus refundRequests { id state legs { type state } } } }")


def staff(app, client, email: str) -> str:
    make_user(app, email, ["refund_approver"])
    return login(client, email)


def three_leg_order(app, client, *, capture_mode: str = "AUTHORIZE_AND_CAPTURE") -> tuple[str, str]:
    """A 22.90 EUR order: gift card 4.50 (position 0), store credit 6.00 (1), card 12.40 (2).
    Returns (order id, the buyer's token)."""
    store(app, capture_mode=capture_mode)
    admin = signed_in(app, client, "admin")
    buyer = _customer(app, client)
    post(client, CREDIT, {"input": {"customerId": str(_customer_id(app)), "amount": "6.00", "currency": "EUR",
                                    "idempotencyKey": "welcome"}}, admin)
    code = post(client, GIFT, {"input": {"count": 1, "amount": "4.50", "currency": "EUR"}}, admin)[
        "data"]["generateGiftCards"]["giftCards"][0]["code"]
    publish(app, CASCADE)
    cart = ready_cart(client, buyer)
    assert tenders(client, cart, [{"type": "gift_card", "code": code}], buyer)["errors"] == []
    placed = post(client, PLACE, {"id": cart, "key": "k-3"}, buyer)["data"]["placeOrder"]
    assert placed["errors"] == [], placed
    return placed["order"]["id"], buyer


def drain(app) -> None:
    """Run what was queued: in-process it already ran; with Redis, a burst worker on the queues."""
    if not get_dispatcher(app).in_process:
        with app.app_context():
            build_worker(app, [REFUNDS, DEFAULT, EVENTS], worker_class=VectisSimpleWorker).work(burst=True)
