"""The placeOrder gate of approvals, a checkout stage after pricing, promotions, shipping and tax
(so the total is final) and before the tenders authorise anything.

* No live route selects the cart for the placing buyer: nothing to check.
* Otherwise the cart's latest request must be approved for the cart's current version, else
  ``APPROVAL_REQUIRED``.
* The live grand total is compared with the approved one: beyond the plan's tolerance placement
  is refused (``APPROVAL_PRICE_DRIFT``) and, once the refusal rolled back, the cart goes back for
  approval in its own transaction (a new request with the same routes, the fault on it).
* A refusal of the approved cart's tenders at placement (a gateway declined, a balance ran short,
  the split no longer composes) is a fault of the payment phase: once the refusal rolled back, it is
  kept on the approved request (``cart.approval.fault``, code ``PAYMENT_FAILED``) and emitted as
  ``workflow.fault``; the cart stays approved (the buyer fixes the card and places again).
"""
from __future__ import annotations

import sys

from flask import current_app

from runtime.approvals import carts as approvals
from runtime.approvals.carts import GATE_POSITION  # noqa: F401  (the stage's position, registered in __init__)
from runtime.approvals import core
from runtime.approvals.core import ApprovalErrorCode as Code
from runtime.approvals.events import fault, step_event
from runtime.approvals.models import APPROVED, SUPERSEDED
from runtime.auth.permissions import Actor
from runtime.carts.models import Cart
from runtime.checkout.pipeline import Checkout
from runtime.db import after_rollback
from runtime.definitions.live import live_definitions
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.state_machines import SystemActor, fire

#: Just around the inventory stage (850): reached and passed.
BEFORE_STOCK, AFTER_STOCK = 849, 851
#: ``session.info`` key of the marks of one placement.
STOCK_MARKS = "vectis.approvals.stock"
#: Just around the tenders stage (700), and the key of their marks.
BEFORE_TENDERS, AFTER_TENDERS = 699, 701
TENDER_MARKS = "vectis.approvals.tenders"
#: The fault code of tenders refused at placement.
PAYMENT_FAILED = "PAYMENT_FAILED"
SYSTEM = SystemActor("system:approvals")


def gate(checkout: Checkout) -> None:
    if not live_definitions(current_app).all(approvals.KIND):
        return
    session, cart = checkout.session, checkout.cart
    routed = approvals.routing(session, cart, checkout.actor.roles, checkout.total.amount)
    if not routed.plan.required:
        return
    request = core.latest(session, approvals.SUBJECT, cart.id)
    if request is None or request.status != APPROVED or request.subject_version != cart.version:
        where = "" if request is None else f" (the latest request is {request.status})"
        raise BusinessError(Code.APPROVAL_REQUIRED, f"cartId: this cart needs approval before it is placed{where}; "
                            f"routes: {', '.join(routed.plan.routes)} (submitCartForApproval)", field="cartId")
    live = checkout.total.amount
    moved = approvals.drift(request, live)
    if moved is None:
        checkout.note("approvals", request=request.id, approved_total=format(request.amount, "f"))
        _watch_tenders(checkout, request.id)
        _watch_stock(checkout, request.id)
        return
    approved, moved = Money(request.amount, cart.currency).amount, Money(moved, cart.currency).amount
    reason = (f"the grand total is {live} {cart.currency}, {moved} away from the approved {approved}, beyond "
              "the route's tolerance")
    app, cart_id = current_app._get_current_object(), cart.id
    after_rollback(session, lambda: _send_back(app, cart_id, request.id, reason, live))
    raise BusinessError(Code.APPROVAL_PRICE_DRIFT, f"cartId: {reason}; the cart went back for approval",
                        field="cartId", approvedGrandTotal=format(approved, "f"), liveGrandTotal=format(live, "f"))


def _watch_stock(checkout: Checkout, request_id: int) -> None:
    """The inventory gate: if placement of the approved cart fails in the inventory stage (it
    re-validates stock inside the transaction), the cart moves to ``cart_approved_blocked_inventory``
    once the refusal rolled back, keeping its approvals. The stages around the inventory stage
    (:data:`BEFORE_STOCK`, :data:`AFTER_STOCK`) tell a stock refusal from any other."""
    marks = {"reached": False, "passed": False}
    checkout.session.info[STOCK_MARKS] = marks
    app, cart_id = current_app._get_current_object(), checkout.cart.id

    def blocked() -> None:
        if marks["reached"] and not marks["passed"]:
            _block(app, cart_id, request_id)

    after_rollback(checkout.session, blocked)


def _watch_tenders(checkout: Checkout, request_id: int) -> None:
    """If the tenders stage refuses the approved cart, record the refusal as the payment phase's
    fault once it rolled back."""
    marks = {"reached": False, "passed": False}
    checkout.session.info[TENDER_MARKS] = marks
    app, cart_id = current_app._get_current_object(), checkout.cart.id

    def refused() -> None:
        if marks["reached"] and not marks["passed"]:
            _payment_fault(app, cart_id, request_id, _refusal())

    after_rollback(checkout.session, refused)


def _refusal() -> str:
    """The refusal being rolled back: after-rollback hooks run while it propagates."""
    exc = sys.exc_info()[1]
    errors = getattr(exc, "errors", None) or ([exc] if exc is not None else [])
    return "; ".join(getattr(e, "message", str(e)) for e in errors)[:1900] or "the tenders were refused"


def before_tenders(checkout: Checkout) -> None:
    if TENDER_MARKS in checkout.session.info:
        checkout.session.info[TENDER_MARKS]["reached"] = True


def after_tenders(checkout: Checkout) -> None:
    marks = checkout.session.info.pop(TENDER_MARKS, None)
    if marks is not None:
        marks["passed"] = True


def _payment_fault(app, cart_id: int, request_id: int, reason: str) -> None:
    def work(session):
        request = core.latest(session, approvals.SUBJECT, cart_id, lock=True)
        if request is None or request.id != request_id or request.status != APPROVED:
            return
        fault(session, request, PAYMENT_FAILED, f"placement refused the tenders: {reason}", "payment")

    with app.app_context():
        app.extensions["vectis.db"].run(work)


def before_stock(checkout: Checkout) -> None:
    if STOCK_MARKS in checkout.session.info:
        checkout.session.info[STOCK_MARKS]["reached"] = True


def after_stock(checkout: Checkout) -> None:
    marks = checkout.session.info.pop(STOCK_MARKS, None)
    if marks is not None:
        marks["passed"] = True


def _block(app, cart_id: int, request_id: int) -> None:
    def work(session):
        cart = session.get(Cart, cart_id, with_for_update=True)
        request = core.latest(session, approvals.SUBJECT, cart_id, lock=True)
        if cart is None or request is None or request.id != request_id or cart.state != "approved":
            return
        fire(session, cart, "block_for_inventory", SYSTEM)
        reason = "stock ran short at placement; the approvals are kept: place again once stock returns, or withdraw to edit"
        fault(session, request, "OUT_OF_STOCK", reason, "placement")
        step_event(session, request, "blocked", SYSTEM.label, note=reason)

    with app.app_context():
        app.extensions["vectis.db"].run(work)


def _send_back(app, cart_id: int, request_id: int, reason: str, live) -> None:
    """In a transaction of its own: the approved request is superseded by a new one (same plan)
    for the live total, and the cart returns to ``pending_cart_approval``."""
    def work(session):
        cart = session.get(Cart, cart_id, with_for_update=True)
        old = core.latest(session, approvals.SUBJECT, cart_id, lock=True)
        if cart is None or old is None or old.id != request_id or cart.state not in ("approved", "active"):
            return  # someone acted first
        core.close(session, old, SUPERSEDED, reason)
        if cart.state == "active":  # the checkout's reopen ran; approved again first
            return
        fire(session, cart, "require_reapproval", SYSTEM)
        new = core.open_request(session, subject_type=approvals.SUBJECT, subject_id=cart.id, account_id=old.account_id,
                                requester=_requester(old), plan=old.plan, amount=live, currency=cart.currency,
                                subject_version=cart.version, note=old.note)
        fault(session, new, Code.APPROVAL_PRICE_DRIFT.value, reason, new.current_phase)
        approvals.follow_phase(session, cart, new, SYSTEM)
        step_event(session, new, "reapproval", SYSTEM.label, phase=new.current_phase, note=reason)

    with app.app_context():
        app.extensions["vectis.db"].run(work)


def _requester(request) -> Actor:
    return Actor(user_id=request.requester_user_id, email=request.requester_email)
