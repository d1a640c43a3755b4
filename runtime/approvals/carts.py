"""Cart approvals on top of the generic core: live ``approval_route`` definitions selected over the
cart fact, the cart machine's approval states, rejections as ``CartRejectionEvent`` rows, events.

The cart machine follows the request: the ``payment`` phase or any phase after the first is
``pending_payment_approval``, the first (``cart``) phase ``pending_cart_approval``; the last approval moves the cart to ``approved``. A rejection, a
withdrawal or an expiry returns it to ``active`` for the buyer to edit and resubmit.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from rules.approval_route import ApprovalRoute, Plan, RouteExplanation, combine, explain, select as select_routes
from sqlmodel import Session, select

from runtime.approvals import core
from runtime.approvals.core import ApprovalErrorCode as Code
from runtime.approvals.events import step_event
from runtime.approvals.models import EXPIRED, PENDING, SUPERSEDED, WITHDRAWN, ApprovalRequest, CartRejectionEvent
from runtime.approvals.quorum import check as check_quorum
from runtime.approvals.tenders import PAYMENT_PHASE, check_payable
from runtime.auth.permissions import Actor
from runtime.carts import service as carts
from runtime.carts.lines import cart_lines
from runtime.carts.models import Cart
from runtime.channels.models import Channel
from runtime.checkout.pipeline import Checkout, run_stages, stages
from runtime.definitions.live import live_definitions
from runtime.errors import BusinessError
from runtime.promotions.facts import Buyer, PricedLine, cart_fact, number
from runtime.state_machines import EffectCall, fire

SUBJECT = "cart"
KIND = "approval_route"
#: Cart states while a request is pending, by phase position.
#: The approvals gate's checkout stage position: after tax (400), before the tenders authorise
#: (700). A quote of the grand total runs the stages before it.
GATE_POSITION = 650
FIRST_PHASE_STATE, LATER_PHASE_STATE = "pending_cart_approval", "pending_payment_approval"
PENDING_STATES = (FIRST_PHASE_STATE, LATER_PHASE_STATE)


@dataclass(frozen=True)
class Routing:
    plan: Plan
    revisions: dict[str, int]
    explanations: list[RouteExplanation]
    fact: dict[str, Any]


def grand_total(session: Session, cart: Cart, actor: Actor) -> Decimal:
    """The grand total placeOrder would charge now: the checkout stages before the approvals gate
    (pricing, promotions, shipping, tax) run on the cart inside a savepoint that is rolled back."""
    lines = cart_lines(session, cart)
    channel = session.get(Channel, cart.channel_id)
    checkout = Checkout(session=session, cart=cart, lines=lines, channel=channel, actor=actor,
                        base_currency=current_app.config["VECTIS"].base_currency, idempotency_key="approval-quote")
    savepoint = session.begin_nested()
    try:
        run_stages(checkout, [s for s in stages(current_app) if s.position < GATE_POSITION])
        total = checkout.total.amount
    finally:
        savepoint.rollback()
        session.expire_all()  # the stages changed rows in memory that the savepoint undid
    return total


def fact_of(session: Session, cart: Cart, total: Decimal | None = None) -> dict[str, Any]:
    """The cart fact routes read: the promotion engine's, plus the grand total (``total``, else the
    cart's stored total)."""
    lines = [PricedLine(str(line.id), line.variant_id, line.base_quantity, line.unit_price)
             for line in cart_lines(session, cart)]
    channel = session.get(Channel, cart.channel_id)
    buyer = Buyer(customer_id=cart.customer_id, account_id=cart.account_id, user_id=cart.user_id, email=cart.email)
    fact = cart_fact(session, channel=channel, currency=cart.currency, lines=lines, buyer=buyer, cart_id=str(cart.id))
    fact["total"] = number(cart.total if total is None else total)
    return fact


def routing(session: Session, cart: Cart, requester_roles: frozenset[str], total: Decimal | None = None) -> Routing:
    live = live_definitions(current_app).all(KIND)
    routes: list[ApprovalRoute] = [d.compiled for d in live]
    fact = fact_of(session, cart, total)
    plan = combine(select_routes(routes, fact, requester_roles))
    return Routing(plan, {d.name: d.revision for d in live}, explain(routes, fact, requester_roles), fact)


def submit(session: Session, actor: Actor, token: str, note: Any) -> Cart:
    text = core.check_note(note, "note")
    cart = carts.load_cart(session, actor, token, lock=True)
    if actor.user_id is None or cart.user_id != actor.user_id:
        raise BusinessError(Code.NOT_FOUND, f"cartId: no cart {token!r} of yours to submit", field="cartId")
    carts.require_active(cart)
    total = grand_total(session, cart, actor)
    cart = carts.load_cart(session, actor, token, lock=True)  # fresh after the quote's rollback
    routed = routing(session, cart, actor.roles, total)
    if not routed.plan.required:
        raise BusinessError(Code.APPROVAL_NOT_REQUIRED, "cartId: no approval route applies to this cart; place it",
                            field="cartId")
    previous = core.latest(session, SUBJECT, cart.id, lock=True)
    if previous is not None and previous.status == PENDING:
        core.close(session, previous, SUPERSEDED, "resubmitted")
    fire(session, cart, "submit_for_approval", actor)
    request = core.open_request(session, subject_type=SUBJECT, subject_id=cart.id, account_id=cart.account_id,
                                requester=actor, plan=core.plan_document(routed.plan, routed.revisions),
                                amount=total, currency=cart.currency, subject_version=cart.version, note=text)
    follow_phase(session, cart, request, actor)
    step_event(session, request, "submitted", actor.label, phase=request.current_phase, note=text,
                routes=list(routed.plan.routes))
    entered_phase(session, cart, request, actor)
    return cart


def entered_phase(session: Session, cart: Cart, request: ApprovalRequest, actor) -> None:
    """The request reached a phase: a payment phase whose split cannot pay is a fault; a tier
    that can no longer reach its quorum is flagged (the more urgent, so checked last)."""
    if request.current_phase == PAYMENT_PHASE:
        check_payable(session, cart, request, actor)
    check_quorum(session, request)


def follow_phase(session: Session, cart: Cart, request: ApprovalRequest, actor) -> None:
    """Move the cart's state to match the request's current phase."""
    names = [p["name"] for p in request.plan["phases"]]
    current = request.current_phase
    later = current is not None and (current == "payment" or names.index(current) > 0)
    if later and cart.state == FIRST_PHASE_STATE:
        fire(session, cart, "approve_cart_phase", actor)


def approver_cart(session: Session, actor: Actor, token: str) -> tuple[Cart, ApprovalRequest]:
    """The cart and its latest request, locked, if ``actor`` may see it; NOT_FOUND otherwise (an
    approver of another account learns nothing, not even that the cart exists)."""
    if actor.user_id is None:
        raise BusinessError(Code.NOT_FOUND, f"cartId: no cart {token!r}", field="cartId")
    cart = session.exec(select(Cart).where(Cart.token == str(token)).with_for_update()).first()
    request = core.latest(session, SUBJECT, cart.id, lock=True) if cart is not None else None
    if cart is None or request is None or not core.may_see(request, actor):
        raise BusinessError(Code.NOT_FOUND, f"cartId: no cart {token!r} awaiting your approval", field="cartId")
    return cart, request


def approve(session: Session, actor: Actor, token: str, note: Any) -> Cart:
    text = core.check_note(note, "note")
    cart, request = approver_cart(session, actor, token)
    decided = core.decide(session, request, actor, approve=True, note=text)
    if decided.phase_completed and decided.next_phase is None:
        fire(session, cart, "approve", actor)  # the amount approved is the one submitted (lines are locked)
    elif decided.phase_completed:
        follow_phase(session, cart, request, actor)
        entered_phase(session, cart, request, actor)
    step_event(session, request, "approved", actor.label, phase=decided.decision.phase, tier=decided.decision.tier,
           note=text, phase_completed=decided.phase_completed)
    return cart


def reject(session: Session, actor: Actor, token: str, reason: Any) -> Cart:
    text = core.check_note(reason, "reason", required=True)
    cart, request = approver_cart(session, actor, token)
    decided = core.decide(session, request, actor, approve=False, note=text)
    session.add(CartRejectionEvent(cart_id=cart.id, request_id=request.id, phase=decided.decision.phase,
                                   tier=decided.decision.tier, user_id=actor.user_id, email=actor.email, reason=text))
    fire(session, cart, "reject", actor)
    step_event(session, request, "rejected", actor.label, phase=decided.decision.phase, tier=decided.decision.tier,
           note=text)
    return cart


def withdraw(session: Session, actor: Actor, token: str) -> Cart:
    cart = carts.load_cart(session, actor, token, lock=True)
    request = core.latest(session, SUBJECT, cart.id, lock=True)
    if actor.user_id is None or cart.user_id != actor.user_id or request is None:
        raise BusinessError(Code.NOT_FOUND, f"cartId: no approval request of yours for cart {token!r}", field="cartId")
    if request.status != PENDING and cart.state not in ("approved", "cart_approved_blocked_inventory"):
        raise BusinessError(Code.REQUEST_NOT_PENDING, f"cartId: the approval request is {request.status}; nothing "
                            "to withdraw", field="cartId")
    phase = request.current_phase
    core.close(session, request, WITHDRAWN, "withdrawn by the requester")
    fire(session, cart, "withdraw", actor)
    step_event(session, request, "withdrawn", actor.label, phase=phase)
    return cart


def expire_effect(call: EffectCall) -> None:
    """``core.expire_approval``, in the sweep's transaction: each cart's pending request expires
    with it (the cart is back to active; the buyer may resubmit)."""
    for cart_id in call.entity_ids:
        request = core.latest(call.session, SUBJECT, int(cart_id), lock=True)
        if request is None or request.status != PENDING:
            continue
        phase = request.current_phase
        core.close(call.session, request, EXPIRED, "nobody decided in time")
        step_event(call.session, request, "expired", call.actor, phase=phase)


def rejections(session: Session, cart_ids: list[int]) -> dict[int, list[CartRejectionEvent]]:
    found: dict[int, list[CartRejectionEvent]] = {cid: [] for cid in cart_ids}
    if cart_ids:
        for row in session.exec(select(CartRejectionEvent).where(CartRejectionEvent.cart_id.in_(cart_ids))
                                .order_by(CartRejectionEvent.id)).all():
            found[row.cart_id].append(row)
    return found


def drift(request: ApprovalRequest, live_total: Decimal) -> Decimal | None:
    """How far ``live_total`` is beyond the plan's tolerance of the approved amount, or ``None``."""
    tolerance = request.plan.get("tolerance") or {}
    allowance = Decimal(tolerance.get("amount") or 0)
    if tolerance.get("percent") is not None:
        allowance = max(allowance, abs(request.amount) * Decimal(tolerance["percent"]) / 100)
    moved = abs(live_total - request.amount)
    return moved if moved > allowance else None
