"""Cart approvals over HTTP: a buyer submits, a manager approves the cart phase, two of three
finance approvers the payment phase; a price change refuses placement for drift and sends the cart
back; re-approved, it is placed. A rejection round trip. Refusals change nothing."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from runtime.approvals.models import ApprovalDecision, ApprovalRequest, CartRejectionEvent
from runtime.carts.models import Cart
from runtime.events.models import OutboxEvent
from runtime.orders.models import Order
from runtime.pricing.models import PriceListEntry
from tests.runtime.test_carts_api import ERRORS, b2b, post, rows, store
from tests.runtime.test_checkout_api import PLACE, ready_cart
from tests.runtime.test_tenders_checkout import publish

ROUTE = """kind: approval_route
name: b2b_over_20
when: {total: {gt: 20}}
requesters: [b2b_buyer]
tolerance: {amount: "0.50"}
phases:
  cart:
    tiers: [{name: managers, roles: [b2b_manager], quorum: 1}]
  payment:
    tiers:
      - {name: finance, users: [fin1@acme.test, fin2@acme.test, fin3@acme.test], quorum: 2}
"""
EMPLOYEES = (("buyer@acme.test", "b2b_buyer"), ("boss@acme.test", "b2b_manager"), ("fin1@acme.test", "b2b_finance"),
             ("fin2@acme.test", "b2b_finance"), ("fin3@acme.test", "b2b_finance"))
SUBMIT = "mutation($id: ID!, $note: String) { submitCartForApproval(cartId: $id, note: $note) { cart { id state } " + ERRORS + " } }"
APPROVE = "mutation($id: ID!, $note: String) { approveCart(cartId: $id, note: $note) { cart { id state } " + ERRORS + " } }"
REJECT = "mutation($id: ID!, $reason: String!) { rejectCart(cartId: $id, reason: $reason) { cart { id state } " + ERRORS + " } }"
WITHDRAW = "mutation($id: ID!) { withdrawCartApproval(cartId: $id) { cart { id state } " + ERRORS + " } }"
APPROVAL = """query($id: ID!) { cart(id: $id) { state approval { status currentPhase requestedBy note
  approvedGrandTotal { amount currency } routes { name revision }
  phases { name mode status tiers { name quorum approvals roles users } }
  approvals { approver approved phase tier note } rejections { rejectedBy reason phase tier } fault { code phase } } } }"""
INBOX = """query($filter: CartApprovalsFilter, $first: Int, $after: String) { cartApprovals(filter: $filter, first: $first,
  after: $after) { nodes { id approval { currentPhase } } pageInfo { hasNextPage endCursor } } }"""
UPDATE = "mutation($id: ID!, $line: ID!, $q: Int!) { updateCartLine(cartId: $id, lineId: $line, quantity: $q) { cart { total { amount } } " + ERRORS + " } }"
LINES = "query($id: ID!) { cart(id: $id) { lines { id } } }"


@pytest.fixture
def acme(app, client):
    ids = store(app)
    publish(app, ROUTE)
    return {**b2b(app, client, employees=EMPLOYEES), **ids}


def call(client, query, variables, token):
    answer = post(client, query, variables, token)
    assert "errors" not in answer, answer
    return list(answer["data"].values())[0]


def approval(client, cart, token):
    return call(client, APPROVAL, {"id": cart}, token)


def saved(app):
    """Everything a refused approval operation must leave as it was."""
    return ([(c.state, c.version) for c in rows(app, Cart)], len(rows(app, ApprovalRequest)),
            len(rows(app, ApprovalDecision)), len(rows(app, CartRejectionEvent)), len(rows(app, OutboxEvent)))


def test_submit_approve_drift_reapprove_and_place(app, client, acme):
    t = acme["tokens"]
    buyer, boss = t["buyer@acme.test"], t["boss@acme.test"]
    cart = ready_cart(client, buyer)

    # a cart the route selects cannot be placed without approval
    refused = call(client, PLACE, {"id": cart, "key": "k1"}, buyer)
    assert [e["code"] for e in refused["errors"]] == ["APPROVAL_REQUIRED"]

    submitted = call(client, SUBMIT, {"id": cart, "note": "restock"}, buyer)
    assert submitted == {"cart": {"id": cart, "state": "pending_cart_approval"}, "errors": []}
    # the buyer can never approve their own cart
    before = saved(app)
    mine = call(client, APPROVE, {"id": cart}, buyer)
    assert mine == {"cart": None, "errors": [{"code": "SELF_APPROVAL", "field": "cartId",
                                              "message": "cartId: you requested this approval; someone else must decide it"}]}
    # finance cannot approve the cart phase (their tier is in the payment phase)
    early = call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])
    assert early["errors"] == [{"code": "NOT_AN_APPROVER", "field": "cartId",
                                "message": "cartId: you are not an approver of phase 'cart' now"}]
    assert saved(app) == before

    assert call(client, INBOX, {}, boss)["nodes"] == [{"id": cart, "approval": {"currentPhase": "cart"}}]
    assert call(client, INBOX, {}, t["fin1@acme.test"])["nodes"] == []
    assert call(client, APPROVE, {"id": cart, "note": "ok"}, boss)["cart"]["state"] == "pending_payment_approval"
    assert call(client, INBOX, {}, boss)["nodes"] == []
    assert call(client, INBOX, {"filter": {"phase": "payment"}}, t["fin2@acme.test"])["nodes"] == [
        {"id": cart, "approval": {"currentPhase": "payment"}}]

    # one of the two finance approvals needed
    assert call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])["cart"]["state"] == "pending_payment_approval"
    twice = call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])
    assert [e["code"] for e in twice["errors"]] == ["ALREADY_DECIDED"]
    assert call(client, APPROVE, {"id": cart, "note": "fine"}, t["fin2@acme.test"])["cart"]["state"] == "approved"

    seen = approval(client, cart, buyer)
    assert seen["state"] == "approved"
    assert {k: seen["approval"][k] for k in ("status", "currentPhase", "requestedBy", "note", "approvedGrandTotal",
                                             "routes")} == {
        "status": "approved", "currentPhase": None, "requestedBy": "buyer@acme.test", "note": "restock",
        "approvedGrandTotal": {"amount": "22.90", "currency": "EUR"}, "routes": [{"name": "b2b_over_20", "revision": 1}]}
    assert [(a["approver"], a["phase"], a["tier"], a["note"]) for a in seen["approval"]["approvals"]] == [
        ("boss@acme.test", "cart", "managers", "ok"), ("fin1@acme.test", "payment", "finance", ""),
        ("fin2@acme.test", "payment", "finance", "fine")]
    assert [(p["name"], p["status"], [(x["quorum"], x["approvals"]) for x in p["tiers"]])
            for p in seen["approval"]["phases"]] == [("cart", "done", [(1, 1)]), ("payment", "done", [(2, 2)])]

    # the price changes: 2 x 9.50 + 4.90 = 23.90 is 1.00 away from 22.90, beyond the 0.50 tolerance
    def reprice(session):
        entry = session.exec(select(PriceListEntry).where(PriceListEntry.min_quantity == 1)).one()
        entry.price = Decimal("9.50")
        session.add(entry)
    app.extensions["vectis.db"].run(reprice)
    orders_before = len(rows(app, Order))
    drifted = call(client, PLACE, {"id": cart, "key": "k2"}, buyer)
    assert drifted["errors"] == [{"code": "APPROVAL_PRICE_DRIFT", "field": "cartId", "message":
                                  "cartId: the grand total is 23.90 EUR, 1.00 away from the approved 22.90, beyond the "
                                  "route's tolerance; the cart went back for approval"}]
    assert len(rows(app, Order)) == orders_before
    back = approval(client, cart, buyer)
    assert (back["state"], back["approval"]["status"], back["approval"]["currentPhase"], back["approval"]["fault"]) == (
        "pending_cart_approval", "pending", "cart", {"code": "APPROVAL_PRICE_DRIFT", "phase": "cart"})
    steps = [e.payload["step"] for e in rows(app, OutboxEvent, OutboxEvent.type == "approval.step")]
    assert steps == ["submitted", "approved", "approved", "approved", "reapproval"]
    assert len(rows(app, OutboxEvent, OutboxEvent.type == "workflow.fault")) == 1

    # re-approval by the manager and two finance approvers (another pair), then placement succeeds
    call(client, APPROVE, {"id": cart}, boss)
    call(client, APPROVE, {"id": cart}, t["fin3@acme.test"])
    assert call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])["cart"]["state"] == "approved"
    placed = call(client, PLACE, {"id": cart, "key": "k3"}, buyer)
    assert placed["errors"] == [] and placed["order"]["total"] == {"amount": "23.90", "currency": "EUR"}
    assert rows(app, Cart)[0].state == "converted"


def test_a_rejection_returns_the_cart_to_the_buyer_who_edits_and_resubmits(app, client, acme):
    t = acme["tokens"]
    buyer, boss = t["buyer@acme.test"], t["boss@acme.test"]
    cart = ready_cart(client, buyer)
    call(client, SUBMIT, {"id": cart}, buyer)

    before = saved(app)
    blank = call(client, REJECT, {"id": cart, "reason": "  "}, boss)
    assert blank["errors"] == [{"code": "REASON_REQUIRED", "field": "reason",
                                "message": "reason: say why (a reason is required)"}]
    assert saved(app) == before
    rejected = call(client, REJECT, {"id": cart, "reason": "too many mugs"}, boss)
    assert rejected == {"cart": {"id": cart, "state": "active"}, "errors": []}
    seen = approval(client, cart, buyer)["approval"]
    assert (seen["status"], seen["rejections"]) == ("rejected", [
        {"rejectedBy": "boss@acme.test", "reason": "too many mugs", "phase": "cart", "tier": "managers"}])
    late = call(client, APPROVE, {"id": cart}, t["fin1@acme.test"])
    assert late["errors"] == [{"code": "REQUEST_NOT_PENDING", "field": "cartId", "message":
                               late["errors"][0]["message"]}]
    assert late["errors"][0]["message"].startswith("cartId: the approval request is rejected by boss@acme.test at ")

    # the buyer edits (3 mugs) and resubmits; approved again, it is placed
    line = call(client, LINES, {"id": cart}, buyer)["lines"][0]["id"]
    assert call(client, UPDATE, {"id": cart, "line": line, "q": 3}, buyer)["cart"]["total"] == {"amount": "31.90"}
    assert call(client, SUBMIT, {"id": cart}, buyer)["cart"]["state"] == "pending_cart_approval"
    for approver in ("boss@acme.test", "fin2@acme.test", "fin3@acme.test"):
        call(client, APPROVE, {"id": cart}, t[approver])
    placed = call(client, PLACE, {"id": cart, "key": "r1"}, buyer)
    assert placed["errors"] == [] and placed["order"]["total"]["amount"] == "31.90"
    assert len(rows(app, CartRejectionEvent)) == 1


def test_withdraw_returns_an_approved_cart_to_active(app, client, acme):
    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    other = call(client, WITHDRAW, {"id": cart}, t["boss@acme.test"])
    assert [e["code"] for e in other["errors"]] == ["NOT_FOUND"]
    assert call(client, WITHDRAW, {"id": cart}, t["buyer@acme.test"])["cart"]["state"] == "active"
    assert approval(client, cart, t["buyer@acme.test"])["approval"]["status"] == "withdrawn"
    assert call(client, INBOX, {}, t["boss@acme.test"])["nodes"] == []


def test_a_request_nobody_decides_for_14_days_expires_with_the_cart_through_the_sweep(app, client, acme, frozen_clock):
    from runtime.state_machines.sweep import sweep_timers

    t = acme["tokens"]
    cart = ready_cart(client, t["buyer@acme.test"])
    call(client, SUBMIT, {"id": cart}, t["buyer@acme.test"])
    frozen_clock.advance(days=13, hours=23)
    with app.app_context():
        assert ("cart", "cart", "pending_cart_approval") not in sweep_timers(app)
        frozen_clock.advance(hours=1)
        assert sweep_timers(app)[("cart", "cart", "pending_cart_approval")] == 1
    seen = approval(client, cart, t["buyer@acme.test"])
    assert (seen["state"], seen["approval"]["status"]) == ("active", "expired")
    assert call(client, INBOX, {}, t["boss@acme.test"])["nodes"] == []
    steps = [e.payload["step"] for e in rows(app, OutboxEvent, OutboxEvent.type == "approval.step")]
    assert steps == ["submitted", "expired"]


def test_short_stock_blocks_an_approved_cart_which_keeps_its_approvals_and_places_once_stock_returns(app, client):
    from runtime.inventory.models import StockLevel
    from tests.runtime.test_inventory import tracked_store

    tracked_store(app, on_hand=1)
    publish(app, ROUTE)
    t = b2b(app, client, employees=EMPLOYEES)["tokens"]
    buyer = t["buyer@acme.test"]
    cart = ready_cart(client, buyer)  # 2 mugs, 1 in stock
    call(client, SUBMIT, {"id": cart}, buyer)
    for approver in ("boss@acme.test", "fin1@acme.test", "fin2@acme.test"):
        call(client, APPROVE, {"id": cart}, t[approver])

    short = call(client, PLACE, {"id": cart, "key": "s1"}, buyer)
    assert [e["code"] for e in short["errors"]] == ["OUT_OF_STOCK"]
    seen = approval(client, cart, buyer)
    assert (seen["state"], seen["approval"]["status"], seen["approval"]["fault"]) == (
        "cart_approved_blocked_inventory", "approved", {"code": "OUT_OF_STOCK", "phase": "placement"})
    assert len(seen["approval"]["approvals"]) == 3
    assert rows(app, Order) == []

    def restock(session):
        level = session.exec(select(StockLevel)).one()
        level.on_hand = 5
        session.add(level)
    app.extensions["vectis.db"].run(restock)
    placed = call(client, PLACE, {"id": cart, "key": "s2"}, buyer)
    assert placed["errors"] == [] and placed["order"]["total"]["amount"] == "22.90"
    assert rows(app, Cart)[0].state == "converted"
