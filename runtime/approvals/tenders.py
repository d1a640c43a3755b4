"""The tender split of a cart in its payment approval: what the payment approver sees, and how
they re-curate it.

The split shown is the one placeOrder would compose for the approved amount
(:func:`runtime.tenders.plan.plan`: the cart's tenders in front, then the live tender cascade).
An approver who may decide the current ``payment`` phase may replace it (``curateCartTenders``, or
``approveCart(tenders:)`` to do both at once): each tender is checked by its type as
``setCartTenders`` checks it, the amounts must add up to the approved amount, the split is composed
by the same planner, and every bounded tender (store credit, net terms, gift cards) is authorised
exactly as at checkout inside a savepoint that is rolled back, so a balance or credit limit too
small is refused now rather than at placement. The new split replaces the cart's tenders (so the
order placed after approval pays with it) and is recorded with who, why, before and after.

A refusal raises before anything is kept (the caller's transaction rolls back).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete
from sqlmodel import Session, select

from runtime.approvals import core
from runtime.approvals.core import ApprovalErrorCode as Code
from runtime.approvals.events import fault, step_event
from runtime.approvals.models import PENDING, ApprovalRequest, ApprovalTenderCuration
from runtime.auth.permissions import Actor
from runtime.carts.models import Cart
from runtime.channels.models import CaptureMode, Channel
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.models import CartTender
from runtime.tenders.plan import CascadeRef, buyer_tenders, plan
from runtime.tenders.service import MAX_TENDERS, check_adds_up, check_tenders
from runtime.tenders.types import TenderCall, TenderLeg, tender_type

#: The phase whose approvers see and may re-curate the split.
PAYMENT_PHASE = "payment"
#: The input's field name in ``curateCartTenders`` and ``approveCart``.
FIELD = "tenders"
#: The fault of a payment phase whose split cannot pay the approved total (a cascade or tender
#: that no longer covers it), kept on the request and emitted as ``workflow.fault``.
UNPAYABLE = "TENDERS_INVALID"


@dataclass(frozen=True)
class Split:
    """The split placeOrder would compose now for ``total``, or why it cannot (``problem``)."""

    total: Money
    legs: list[TenderLeg]
    cascade: CascadeRef | None
    problem: BusinessError | None = None


def _call(session: Session, cart: Cart, actor: Actor, reference: str) -> TenderCall:
    channel = session.get(Channel, cart.channel_id)
    return TenderCall(session=session, app=current_app._get_current_object(), channel=channel, actor=actor, cart=cart,
                      reference=reference, capture=channel.capture_mode == CaptureMode.AUTHORIZE_AND_CAPTURE.value)


def compose(session: Session, cart: Cart, request: ApprovalRequest, actor: Actor) -> Split:
    """The split of the approved amount under the cart's tenders and the live cascade."""
    total = Money(request.amount, request.currency)
    try:
        legs, cascade = plan(_call(session, cart, actor, f"approval:{request.id}:view"), total)
    except BusinessErrors as exc:
        return Split(total, [], None, exc.errors[0])
    except BusinessError as exc:
        return Split(total, [], None, exc)
    return Split(total, legs, cascade)


def split_of(database, cart_id: int, request_id: int, actor: Actor) -> Split:
    """:func:`compose` in a short transaction of its own that is rolled back: composing reads
    balances under the ledger's row locks, which must not stay held by a long read."""
    with database.session() as session:
        try:
            return compose(session, session.get(Cart, cart_id), session.get(ApprovalRequest, request_id), actor)
        finally:
            session.rollback()


def legs_document(split: Split) -> list[dict[str, Any]]:
    return [{"position": leg.position, "type": leg.type, "amount": format(leg.amount.amount, "f"),
             "currency": leg.amount.currency, "source": leg.source} for leg in split.legs]


def _tenders_document(session: Session, cart: Cart, currency: str) -> list[dict[str, Any]]:
    return [{"position": t.position, "type": t.type, "currency": currency, "source": "buyer_prepended",
             "amount": None if t.amount is None else format(Money(t.amount, currency).amount, "f")}
            for t in buyer_tenders(session, cart.id)]


def curations(session: Session, request_ids: list[int]) -> dict[int, list[ApprovalTenderCuration]]:
    found: dict[int, list[ApprovalTenderCuration]] = {rid: [] for rid in request_ids}
    if request_ids:
        for row in session.exec(select(ApprovalTenderCuration).where(ApprovalTenderCuration.request_id.in_(request_ids))
                                .order_by(ApprovalTenderCuration.id)).all():
            found[row.request_id].append(row)
    return found


def check_payable(session: Session, cart: Cart, request: ApprovalRequest, actor: Actor) -> Split:
    """On entering the payment phase: a split that cannot pay the approved total is a fault of the
    phase (shown on the cart, ``workflow.fault``), which the payment approver re-curates."""
    split = compose(session, cart, request, actor)
    if split.problem is not None:
        fault(session, request, UNPAYABLE, split.problem.message, PAYMENT_PHASE)
    return split


def curate(session: Session, actor: Actor, cart: Cart, request: ApprovalRequest, values: Any, reason: Any, *,
           reason_field: str = "reason") -> ApprovalTenderCuration:
    """Replace the tender split of ``cart`` as an approver of its current payment phase (the
    caller found and locked the cart and its latest request: ``carts.approver_cart``)."""
    reason = core.check_note(reason, reason_field, required=True)
    if request.status != PENDING:
        raise BusinessError(Code.REQUEST_NOT_PENDING, f"cartId: the approval request is {request.status}; its tenders "
                            "can no longer be curated", field="cartId")
    if request.current_phase != PAYMENT_PHASE and actor.user_id != request.requester_user_id:
        raise BusinessError(Code.NOT_PAYMENT_PHASE, f"cartId: the tender split is curated in the {PAYMENT_PHASE!r} "
                            f"phase; the request is in phase {request.current_phase!r}", field="cartId")
    core.deciding_tier(session, request, actor)
    total = Money(request.amount, request.currency)
    wanted = _parse(session, actor, cart, values, total)
    before = compose(session, cart, request, actor)
    # a split that cannot compose is recorded as the cart's tenders were set
    before_legs = legs_document(before) if before.problem is None else _tenders_document(session, cart, total.currency)
    session.exec(delete(CartTender).where(CartTender.cart_id == cart.id))
    session.add_all(CartTender(cart_id=cart.id, position=index, type=name, amount=amount, details=details)
                    for index, (name, amount, details) in enumerate(wanted))
    session.flush()
    after = _check_like_checkout(session, cart, request, actor, total)
    record = ApprovalTenderCuration(request_id=request.id, cart_id=cart.id, phase=request.current_phase,
                                    user_id=actor.user_id, email=actor.email or actor.label, reason=reason,
                                    before=before_legs, after=legs_document(after))
    session.add(record)
    session.flush()
    if (request.fault or {}).get("code") == UNPAYABLE:
        request.fault = None  # the curated split pays the total
        session.add(request)
    step_event(session, request, "tenders_curated", actor.label, phase=request.current_phase, note=reason)
    return record


def _parse(session: Session, actor: Actor, cart: Cart, values: Any, total: Money) -> list[tuple[str, Any, dict]]:
    """Each tender checked by its type (every problem at once); the amounts must add up to ``total``."""
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_TENDERS:
        count = len(values) if isinstance(values, list) else 0
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"{FIELD}: 1 to {MAX_TENDERS} tenders, got {count}",
                            field=FIELD)

    def cards_card(entry, value: dict, field: str) -> dict | None:
        # a card without a token or saved card is the buyer's card on the cart (setCartPayment)
        if entry.name == "card" and not value.get("token") and value.get("saved_payment_method_id") is None:
            return _carts_card(cart, field)
        return None

    wanted = [(entry.name, amount, details) for entry, amount, details in check_tenders(
        session, actor, cart, values, field=FIELD, currency=total.currency, amount_named_by="a curated tender",
        prepare=cards_card)]
    check_adds_up([amount for _n, amount, _d in wanted], total.amount, total.currency, FIELD, "the approved total is")
    return wanted


def _carts_card(cart: Cart, field: str) -> dict:
    if not (cart.payment or {}).get("token") and (cart.payment or {}).get("saved_payment_method_id") is None:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"{field}: the cart has no card (setCartPayment); name a "
                            "token or savedPaymentMethodId", field=field)
    return {}


def _check_like_checkout(session: Session, cart: Cart, request: ApprovalRequest, actor: Actor, total: Money) -> Split:
    """Compose the new split with the checkout's planner and authorise each bounded tender as
    placeOrder would, in a savepoint rolled back whatever happens: nothing is held now. A card is
    asked at the gateway only at placement (an authorisation now would expire before then)."""
    savepoint = session.begin_nested()
    try:
        call = _call(session, cart, actor, f"approval:{request.id}:check")
        legs, cascade = plan(call, total)
        for leg in legs:
            entry = tender_type(call.app, leg.type, leg.field)
            if entry.value.available(call, leg.details) is not None:
                entry.value.authorize(call, leg)
        return Split(total, legs, cascade)
    finally:
        savepoint.rollback()
