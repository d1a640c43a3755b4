"""Refund requests end to end over HTTP: submitted by one staff member, refused to themselves,
approved by another, executed by the refunds job leg by leg (gift card, store credit, card) exactly
once; bad input refused as data with nothing changed; a failed leg retried alone."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from runtime.approvals.models import ApprovalRequest
from runtime.approvals.quorum import check_pending
from runtime.auth.models import User
from runtime.channels.models import Channel, ChannelProvider
from runtime.events.models import OutboxEvent
from runtime.orders.models import Order, OrderLine
from runtime.payments.models import PaymentTransaction
from runtime.refunds.execution import execute_refund, reconcile_refunds
from runtime.refunds.models import RefundLeg, RefundRequest
from runtime.refunds.review import RefundReviewFlag
from tests.runtime.refund_helpers import (CANCEL, DECIDE, ORDER, READ, RETRY, SUBMIT, drain, staff,
                                          three_leg_order)
from tests.runtime.test_carts_api import post, rows
from tests.runtime.test_tenders_checkout import calls, mock  # noqa: F401
from tests.runtime.helpers import login
from tests.runtime.test_tenders_lifecycle import CANCEL as CANCEL_ORDER
from tests.runtime.test_tenders_lifecycle import _balances


REFUND_PAYMENT = ("mutation($id: ID!) { refundPayment(paymentId: $id) { payment { state } "
                  "errors { code field message } } }")


SELF_SERVICE = ("mutation($slug: String!, $on: Boolean!) { setChannelRefundSelfService(channelSlug: $slug, "
                "buyersMayRequest: $on) { channel { slug buyersMayRequestRefunds } errors { code field message } } }")


def _submit(client, order_id, token, **input):
    return post(client, SUBMIT, {"order": order_id, "input": {"reason": "damaged", **input}}, token)[
        "data"]["submitRefundForApproval"]


def _decide(client, request_id, token, ok=True, notes=None):
    return post(client, DECIDE, {"id": request_id, "ok": ok, "notes": notes}, token)["data"]["decideRefundApproval"]


def test_a_whole_order_refund_is_approved_by_another_user_and_executed_once_per_tender(app, client, calls):
    order_id, _ = three_leg_order(app, client)
    alice, bob = staff(app, client, "alice@example.test"), staff(app, client, "bob@example.test")
    assert _balances(app) == {"gift_card": Decimal("0"), "store_credit": Decimal("0")}

    submitted = _submit(client, order_id, alice, wholeOrder=True)
    assert submitted["errors"] == []
    request = submitted["refundRequest"]
    assert (request["state"], request["amount"], request["approvalsNeeded"], request["requestedBy"]) == (
        "requested", {"amount": "22.90", "currency": "EUR"}, 1, "alice@example.test")
    # the default plan is the reverse of the cascade: the card first, then store credit, then the gift card
    assert [(leg["type"], leg["amount"]["amount"], leg["state"]) for leg in request["legs"]] == [
        ("card", "12.40", "pending"), ("store_credit", "6.00", "pending"), ("gift_card", "4.50", "pending")]

    # the requester can never approve their own request
    own = _decide(client, request["id"], alice)
    assert own == {"refundRequest": None, "errors": [{
        "code": "SELF_APPROVAL", "field": "refundRequestId",
        "message": "refundRequestId: you requested this refund; someone else must decide it"}]}
    assert rows(app, RefundRequest)[0].state == "requested" and rows(app, RefundRequest)[0].approvals == 0

    approved = _decide(client, request["id"], bob, notes="box arrived crushed")
    drain(app)

    assert approved["errors"] == [] and approved["refundRequest"]["decidedBy"] == "bob@example.test"
    done = post(client, READ, {"id": request["id"]}, bob)["data"]["refundRequest"]
    assert done["state"] == "executed" and done["attempts"] == 1 and done["failure"] is None
    assert [(leg["type"], leg["state"], leg["idempotencyKey"].startswith(f"refund:{request['id']}:"))
            for leg in done["legs"]] == [("card", "done", True), ("store_credit", "done", True),
                                         ("gift_card", "done", True)]
    assert all(leg["gatewayReference"] for leg in done["legs"])
    # money back: the card refunded once at the gateway, both balances restored
    assert sorted(calls.refunds.values()) == [1]
    assert [a.status for a in mock(app)._authorizations.values()] == ["refunded"]
    assert _balances(app) == {"gift_card": Decimal("4.50"), "store_credit": Decimal("6.00")}
    order = post(client, ORDER, {"id": order_id}, bob)["data"]["order"]
    assert order["paymentStatus"] == "refunded"
    assert order["refundRequests"] == [{"id": request["id"], "state": "executed", "legs": [
        {"type": "card", "state": "done"}, {"type": "store_credit", "state": "done"}, {"type": "gift_card", "state": "done"}]}]
    refunds = sorted((p.amount, p.idempotency_key.split(":")[0]) for p in rows(app, PaymentTransaction) if p.type == "refund")
    assert refunds == [(Decimal("4.50"), "refund"), (Decimal("6.00"), "refund"), (Decimal("12.40"), "refund")]

    # a second delivery of the job, and the reconciliation, do nothing more
    with app.app_context():
        assert execute_refund(int(request["id"])) == "skipped"
        assert reconcile_refunds(app) == 0
    assert sorted(calls.refunds.values()) == [1]

    # a decision on a request no longer pending names who decided it
    late = _decide(client, request["id"], staff(app, client, "carol@example.test"))
    assert late["errors"][0]["code"] == "REQUEST_NOT_PENDING"
    assert late["errors"][0]["message"].startswith("refundRequestId: the refund request is executed: bob@example.test "
                                                   "decided it at ")


def _snapshot(app):
    return ([(r.id, r.state, r.approvals) for r in rows(app, RefundRequest)],
            [(leg.id, leg.state) for leg in rows(app, RefundLeg)], len(rows(app, OutboxEvent)))


def test_bad_refund_input_is_refused_as_data_and_changes_nothing(app, client):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    before = _snapshot(app)
    cases = [
        ({"amount": "22.91"}, "REFUND_EXCEEDS_REFUNDABLE", "input",
         "input: 22.91 EUR is more than the 22.90 EUR the order can still refund (refunds executed and approved counted)"),
        ({"amount": "0"}, "INVALID_AMOUNT", "input.amount",
         "input.amount: expected a positive amount like \"10.00\", got '0'"),
        ({"amount": "-5.00"}, "INVALID_AMOUNT", "input.amount",
         "input.amount: expected a positive amount like \"10.00\", got '-5.00'"),
        ({"lines": [{"lineId": "999999", "quantity": 1}]}, "UNKNOWN_LINE", "input.lines[0].lineId", None),
        ({"wholeOrder": True, "amount": "1.00"}, "INVALID_INPUT", "input",
         "input: give exactly one of wholeOrder, lines (and/or shipping) or amount; got wholeOrder, amount"),
        ({"amount": "1.00", "reason": "bored"}, "INVALID_REASON", "input.reason", None),
    ]
    for extra, code, field, message in cases:
        answer = _submit(client, order_id, alice, **extra)
        assert answer["refundRequest"] is None, extra
        assert (answer["errors"][0]["code"], answer["errors"][0]["field"]) == (code, field), answer
        if message:
            assert answer["errors"][0]["message"] == message
    unknown = _submit(client, "99999999999999999999", alice, amount="1.00")
    assert unknown["errors"] == [{"code": "NOT_FOUND", "field": "orderId",
                                  "message": "orderId: no order '99999999999999999999'"}]
    line_id = _first_line(app, order_id)
    too_many = _submit(client, order_id, alice, lines=[{"lineId": str(line_id), "quantity": 99}])
    assert too_many["errors"][0]["code"] == "INVALID_QUANTITY"
    assert _snapshot(app) == before
    # a retry of a request that is not failed
    request = _submit(client, order_id, alice, amount="1.00")["refundRequest"]
    retried = post(client, RETRY, {"id": request["id"]}, alice)["data"]["retryRefundExecution"]
    assert retried["errors"] == [{"code": "REQUEST_NOT_FAILED", "field": "refundRequestId", "message":
                                  "refundRequestId: only a failed refund request can be retried; this one is requested"}]


def _first_line(app, order_id):
    return rows(app, OrderLine, OrderLine.order_id == int(order_id))[0].id


def test_an_unpaid_order_cannot_be_refunded(app, client):
    order_id, _ = three_leg_order(app, client, capture_mode="AUTHORIZE")
    alice = staff(app, client, "alice@example.test")
    answer = _submit(client, order_id, alice, wholeOrder=True)
    assert answer["errors"] == [{"code": "ORDER_NOT_PAID", "field": "orderId", "message":
                                 f"orderId: order {rows(app, Order)[0].number} has no captured payment to refund "
                                 "(payment status authorized)"}]
    assert rows(app, RefundRequest) == []


def test_a_failed_leg_faults_the_request_and_a_retry_runs_only_that_leg(app, client, calls):
    order_id, _ = three_leg_order(app, client)
    alice, bob = staff(app, client, "alice@example.test"), staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, wholeOrder=True)["refundRequest"]
    provider = rows(app, ChannelProvider)[0]
    _set_active(app, provider.id, False)  # the card's gateway is gone: its leg fails

    _decide(client, request["id"], bob)
    drain(app)

    failed = post(client, READ, {"id": request["id"]}, bob)["data"]["refundRequest"]
    assert failed["state"] == "failed"
    assert [(leg["type"], leg["state"]) for leg in failed["legs"]] == [
        ("card", "failed"), ("store_credit", "done"), ("gift_card", "done")]
    assert failed["failure"]["legs"][0]["type"] == "card" and failed["failure"]["legs"][0]["code"] == "NO_GATEWAY"
    faults = [e.payload for e in rows(app, OutboxEvent) if e.type == "workflow.fault"]
    assert [(f["subject_type"], f["code"], f["phase"]) for f in faults] == [
        ("refund_request", "REFUND_EXECUTION_FAILED", "execution")]
    assert _balances(app) == {"gift_card": Decimal("4.50"), "store_credit": Decimal("6.00")}

    _set_active(app, provider.id, True)
    # the failed leg's amount stays promised: a direct refundPayment of the card cannot spend it
    card = next(p for p in rows(app, PaymentTransaction) if p.type == "authorization" and p.captured_amount > 0
                and p.gateway.startswith("mock_gateway.payment_gateway"))
    direct = post(client, REFUND_PAYMENT, {"id": str(card.id)}, login(client, "admin@example.test"))["data"]["refundPayment"]
    assert [(e["code"], e["field"]) for e in direct["errors"]] == [("INVALID_AMOUNT", "amount")]
    assert "is promised to approved refund requests" in direct["errors"][0]["message"]
    assert sorted(calls.refunds.values()) == []
    retried = post(client, RETRY, {"id": request["id"]}, bob)["data"]["retryRefundExecution"]
    drain(app)

    assert retried["errors"] == []
    done = post(client, READ, {"id": request["id"]}, bob)["data"]["refundRequest"]
    assert done["state"] == "executed" and done["attempts"] == 2
    assert sorted(calls.refunds.values()) == [1]
    # the ledger legs were not given back twice
    assert _balances(app) == {"gift_card": Decimal("4.50"), "store_credit": Decimal("6.00")}


def _set_active(app, provider_id, active):
    def work(session):
        row = session.get(ChannelProvider, provider_id)
        row.is_active = active
        session.add(row)

    app.extensions["vectis.db"].run(work)


def test_a_requester_may_cancel_a_pending_request(app, client):
    order_id, _ = three_leg_order(app, client)
    alice, bob = staff(app, client, "alice@example.test"), staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, amount="5.00")["refundRequest"]
    assert post(client, CANCEL, {"id": request["id"]}, alice)["data"]["cancelRefundRequest"] == {
        "refundRequest": {"state": "cancelled"}, "errors": []}
    late = _decide(client, request["id"], bob)
    assert late["errors"][0]["code"] == "REQUEST_NOT_PENDING"
    assert "alice@example.test decided it at" in late["errors"][0]["message"]


def test_three_executed_refunds_in_30_days_flag_the_buyer_and_pause_their_refund_self_service(app, client):
    order_id, buyer = three_leg_order(app, client)
    alice, bob = staff(app, client, "alice@example.test"), staff(app, client, "bob@example.test")
    # the buyer may ask for a refund of their own order themselves
    own = _submit(client, order_id, buyer, amount="1.00")
    assert own["errors"] == [] and own["refundRequest"]["requestedBy"] == "cara@example.test"
    assert post(client, CANCEL, {"id": own["refundRequest"]["id"]}, buyer)["data"]["cancelRefundRequest"]["errors"] == []

    for _ in range(3):
        request = _submit(client, order_id, alice, amount="2.00")["refundRequest"]
        assert _decide(client, request["id"], bob)["errors"] == []
        drain(app)
        assert post(client, READ, {"id": request["id"]}, bob)["data"]["refundRequest"]["state"] == "executed"

    flags = rows(app, RefundReviewFlag)
    assert [(f.buyer, f.flagged_by, f.cleared_at) for f in flags] == [
        (rows(app, RefundRequest)[0].buyer, "automation:repeated_refunds", None)]
    paused = _submit(client, order_id, buyer, amount="1.00")
    assert paused == {"refundRequest": None, "errors": [{
        "code": "NOT_FOUND", "field": "orderId",
        "message": "orderId: refunds of this account are under review; contact the store"}]}
    # staff still may
    assert _submit(client, order_id, alice, amount="1.00")["errors"] == []


def test_every_line_with_its_quantity_and_the_shipping_add_up_to_the_order_total(app, client):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    lines = rows(app, OrderLine, OrderLine.order_id == int(order_id))
    order = rows(app, Order)[0]
    first = _submit(client, order_id, alice, lines=[{"lineId": str(line.id), "quantity": line.quantity} for line in lines])
    shipping = _submit(client, order_id, alice, shipping=True)

    assert first["errors"] == [] and shipping["errors"] == []
    parts = Decimal(first["refundRequest"]["amount"]["amount"]) + Decimal(shipping["refundRequest"]["amount"]["amount"])
    assert parts == order.total
    assert Decimal(shipping["refundRequest"]["shippingAmount"]["amount"]) > 0
    # the same lines, or the shipping, cannot be asked for twice
    again = _submit(client, order_id, alice, lines=[{"lineId": str(lines[0].id), "quantity": 1}])
    assert again["errors"][0]["code"] == "INVALID_QUANTITY"
    assert _submit(client, order_id, alice, shipping=True)["errors"][0]["message"] == (
        "input.shipping: the shipping is already refunded or asked for")


def test_a_cancelled_order_is_refused_and_a_retry_past_the_limit_needs_a_person(app, client):
    order_id, _ = three_leg_order(app, client)
    alice, bob = staff(app, client, "alice@example.test"), staff(app, client, "bob@example.test")
    request = _submit(client, order_id, alice, amount="1.00")["refundRequest"]

    def exhausted(session):
        row = session.get(RefundRequest, int(request["id"]))
        row.state, row.attempts = "failed", 5
        session.add(row)

    app.extensions["vectis.db"].run(exhausted)
    retried = post(client, RETRY, {"id": request["id"]}, bob)["data"]["retryRefundExecution"]
    assert retried["errors"] == [{"code": "RETRY_LIMIT_REACHED", "field": "refundRequestId", "message":
                                  "refundRequestId: 5 attempts made, the limit of the refund_request machine; a person "
                                  "must refund by hand and cancel it"}]
    assert rows(app, RefundRequest)[0].state == "failed"
    assert post(client, CANCEL, {"id": request["id"]}, bob)["data"]["cancelRefundRequest"]["errors"] == []

    admin = login(client, "admin@example.test")  # three_leg_order made it
    assert post(client, CANCEL_ORDER, {"id": order_id}, admin)["data"]["transitionOrder"]["errors"] == []
    drain(app)
    refused = _submit(client, order_id, alice, amount="1.00")
    assert refused["errors"] == [{"code": "ORDER_CANCELLED", "field": "orderId", "message":
                                  f"orderId: order {rows(app, Order)[0].number} is cancelled; its tenders were given "
                                  "back on cancel"}]


def test_the_quorum_check_counts_holders_of_refunds_approve_for_a_refund_request(app, client):
    order_id, _ = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    staff(app, client, "bob@example.test")
    _submit(client, order_id, alice, amount="3.00")
    with app.app_context():
        assert check_pending() == 0  # bob and the admin may approve; the requester does not count

    def deactivate(session):
        for user in session.exec(select(User).where(User.email.in_(["bob@example.test", "admin@example.test"]))):
            user.is_active = False
            session.add(user)

    app.extensions["vectis.db"].run(deactivate)
    with app.app_context():
        assert check_pending() == 1
    fault = rows(app, ApprovalRequest)[0].fault
    assert fault["code"] == "QUORUM_UNREACHABLE" and "0 eligible approver(s) left" in fault["reason"]


def test_a_channel_may_keep_refund_requests_to_its_staff(app, client):
    order_id, buyer = three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    admin = login(client, "admin@example.test")  # three_leg_order made it
    slug = app.extensions["vectis.db"].run(lambda s: s.get(Order, int(order_id)).channel_id)
    slug = app.extensions["vectis.db"].run(lambda s: s.get(Channel, slug).slug)

    refused = post(client, SELF_SERVICE, {"slug": slug, "on": False}, alice)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # channels.manage
    assert post(client, SELF_SERVICE, {"slug": "nope", "on": False}, admin)["data"]["setChannelRefundSelfService"][
        "errors"] == [{"code": "NOT_FOUND", "field": "channelSlug", "message": "channelSlug: no channel 'nope'"}]
    off = post(client, SELF_SERVICE, {"slug": slug, "on": False}, admin)["data"]["setChannelRefundSelfService"]
    assert off == {"channel": {"slug": slug, "buyersMayRequestRefunds": False}, "errors": []}

    asked = _submit(client, order_id, buyer, amount="1.00")
    assert asked["refundRequest"] is None and [(e["code"], e["field"]) for e in asked["errors"]] == [
        ("SELF_SERVICE_OFF", "orderId")]
    assert rows(app, RefundRequest) == []
    assert _submit(client, order_id, alice, amount="1.00")["errors"] == []  # staff still may

    post(client, SELF_SERVICE, {"slug": slug, "on": True}, admin)
    assert _submit(client, order_id, buyer, amount="1.00")["errors"] == []


def test_hostile_ids_hours_and_cursors_are_refused_as_data_never_a_fault(app, client):
    import base64
    import json

    three_leg_order(app, client)
    alice = staff(app, client, "alice@example.test")
    huge = "9" * 40
    assert post(client, READ, {"id": huge}, alice)["data"]["refundRequest"] is None
    listing = ("query($f: RefundRequestsFilter, $after: String) { refundRequests(filter: $f, after: $after) {"
               " nodes { id } } }")
    cursor = base64.urlsafe_b64encode(json.dumps([10**40]).encode()).decode()
    for variables, field in (({"f": {"olderThanHours": 2**31 - 1}}, "filter.olderThanHours"),
                             ({"f": {"newerThanHours": 2**31 - 1}}, "filter.newerThanHours"),
                             ({"f": {"orderId": huge}}, "filter.orderId"),
                             ({"after": cursor}, "after")):
        answer = post(client, listing, variables, alice)
        [error] = answer["errors"]
        assert error["extensions"]["code"] == "INVALID_FILTER" and error["message"].startswith(field + ": "), answer
