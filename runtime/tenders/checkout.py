"""The two checkout stages of tenders.

``tenders`` (700) authorises every leg, in order, before the order exists and before inventory
(850) locks stock rows: a gateway that hangs holds the cart row (and the buyer's ledger rows) for
its time-out, never stock. Internal tenders (store credit, net terms, gift cards) write their
holds in the checkout's transaction under row locks; card legs are journaled
(:mod:`runtime.tenders.intents`) and asked at the gateway. When a leg is refused, the refusal
names it (``tenders[i]``) and the transaction rolls back: internal holds vanish with it, and each
card leg already authorised is voided at the gateway by its rollback hook (as it is when any later
stage refuses).

``payment`` (900) writes what was authorised against the order: one ``PaymentTender`` per leg,
each with its authorisation row on the ``payment_transaction`` machine, and moves the order to
``paid`` when every leg is authorised or captured (a leg held for fraud review keeps it ``placed``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.errors import as_checkout_errors
from runtime.channels.models import CaptureMode
from runtime.checkout.pipeline import Checkout
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money
from runtime.orders.service import mark_transition
from runtime.orders.transitions import check_chain, write_history
from runtime.payments.checkout import CHECKOUT, record_card
from runtime.payments.events import payment_event
from runtime.payments.models import PaymentTransaction
from runtime.tenders import fraud
from runtime.tenders.models import PaymentTender
from runtime.tenders.plan import CascadeRef, plan
from runtime.tenders.types import Authorized, TenderCall, TenderLeg, tender_type

#: Positions in the checkout pipeline: after pricing, promotions, shipping and tax; before the
#: order (800) and inventory (850).
AUTHORIZE_POSITION = 700
RECORD_POSITION = 900


@dataclass
class TenderPlan:
    """What the ``tenders`` stage hands to the ``payment`` stage (``Checkout.payment`` until then)."""

    legs: list[tuple[TenderLeg, Any, Authorized]] = field(default_factory=list)
    cascade: CascadeRef | None = None


def authorize_tenders(checkout: Checkout) -> None:
    app = current_app._get_current_object()
    cart = checkout.cart
    call = TenderCall(session=checkout.session, app=app, channel=checkout.channel, actor=checkout.actor, cart=cart,
                      reference=f"order:{cart.id}:{checkout.idempotency_key}",
                      capture=checkout.channel.capture_mode == CaptureMode.AUTHORIZE_AND_CAPTURE.value)
    group = getattr(checkout.price_context, "customer_group_id", None)
    try:
        legs, cascade = plan(call, checkout.total, group)
        done = TenderPlan(cascade=cascade)
        for leg in legs:
            entry = tender_type(app, leg.type, leg.field)
            done.legs.append((leg, entry, entry.value.authorize(call, leg)))
    except (BusinessError, BusinessErrors) as exc:
        raise as_checkout_errors(exc, Code.PAYMENT_UNAVAILABLE) from None
    checkout.payment = done
    checkout.note("payment", cascade=None if cascade is None else {"name": cascade.name, "revision": cascade.revision},
                  tenders=[{"type": leg.type, "amount": format(leg.amount.amount, "f"), "source": leg.source}
                           for leg, _entry, _auth in done.legs])


def record_tenders(checkout: Checkout) -> None:
    done: TenderPlan = checkout.payment
    order, session, actor = checkout.order, checkout.session, checkout.actor
    total = sum((leg.amount for leg, _e, _a in done.legs), Money.zero(order.currency))
    if total.amount != order.total:  # a stage between authorisation and the order changed the total
        raise BusinessErrors([BusinessError(Code.TENDERS_NOT_COVERED, f"tenders: the tenders authorised {total.amount} "
                                            f"but the order's total is {order.total}; place the order again",
                                            field="tenders")])
    # Internal legs are moved on their machine in memory first, so that the one flush a card leg
    # needs (or the one below) inserts every leg's row with one multi-row INSERT; their history
    # rows, events and ledger links then join the next flush (a few batched statements in all,
    # whatever the number of legs).
    rows, internal = [], []
    for leg, entry, authorized in done.legs:
        if authorized.links.get("card") is None:
            row, moves = internal_row(order, actor, leg, authorized)
            session.add(row)
            internal.append((row, moves, leg, authorized))
            rows.append((leg, authorized, row))
    for leg, entry, authorized in done.legs:
        card = authorized.links.get("card")
        if card is not None:
            rows.insert(leg.position, (leg, authorized, record_card(session, order, actor, card, move_order=False)))
    if any(row.id is None for _leg, _authorized, row in rows):
        session.flush()  # internal legs with no card to share a flush, or a leg held for review
    for row, moves, leg, authorized in internal:
        write_history(session, row, moves)
        payment_event(session, "payment.authorized", row, order, leg.amount)
        if authorized.status == "captured":
            payment_event(session, "payment.captured", row, order, leg.amount)
    for leg, entry, authorized in done.legs:
        entry.value.link(session, order, authorized)
    session.add_all([PaymentTender(order_id=order.id, position=leg.position, type=leg.type, amount=leg.amount.amount,
                                   currency=leg.amount.currency, source=leg.source, gateway=authorized.gateway,
                                   reference=authorized.reference, payment_transaction_id=row.id,
                                   due_at=authorized.due_at, details=_public(leg.details))
                     for leg, authorized, row in rows])
    statuses = [authorized.status for _leg, _entry, authorized in done.legs]
    if "pending" in statuses:  # a gateway's fraud review: the order is held, nothing ships
        fraud.hold(session, order, [{"position": leg.position, "type": leg.type, "gateway": authorized.gateway,
                                     "code": authorized.error_code, "message": authorized.message}
                                    for leg, _entry, authorized in done.legs if authorized.status == "pending"])
    else:
        # Last, so the order's history row joins the legs' history rows in one INSERT.
        order.payment_status = "captured" if all(s == "captured" for s in statuses) else "authorized"
        mark_transition(session, order, "pay", actor)
    checkout.payment = rows[0][2] if rows else None


def internal_row(order, actor, leg: TenderLeg, authorized: Authorized) -> tuple[PaymentTransaction, list]:
    """An internal tender's authorisation row, checked on the machine like a card's and moved in
    memory (the caller inserts it, then writes its history with :func:`write_history`)."""
    amount = leg.amount
    row = PaymentTransaction(order_id=order.id, type="authorization", state="pending", gateway=authorized.gateway,
                             gateway_reference=authorized.reference, idempotency_key=authorized.key,
                             amount=amount.amount, currency=amount.currency, actor=actor.label, raw=dict(authorized.raw))
    steps = [("authorize", actor, None)]
    if authorized.status == "captured":
        row.captured_amount = amount.amount
        steps.append(("capture", CHECKOUT, {"amount": float(amount.amount)}))
    return row, check_chain(row, steps)


def record_internal(session, order, actor, leg: TenderLeg, authorized: Authorized) -> PaymentTransaction:
    """An internal tender's authorisation row, inserted and moved on the machine like a card's."""
    row, moves = internal_row(order, actor, leg, authorized)
    session.add(row)
    session.flush()
    write_history(session, row, moves)
    payment_event(session, "payment.authorized", row, order, leg.amount)
    if authorized.status == "captured":
        payment_event(session, "payment.captured", row, order, leg.amount)
    return row


def _public(details: dict) -> dict:
    """What a tender shows of its input: never a token."""
    return {key: value for key, value in details.items() if key in ("saved_payment_method_id", "stored_value_account_id")}
