"""Cancelling an order gives every tender's money back: each authorised leg voided, each captured
leg refunded, through its tender type (the gateway for a card, the ledger for store credit and gift
cards, the open credit for terms).

It runs as the ``core.undo_tenders`` effect of the order machine's ``cancel``, after commit (the
gateway never hears of a cancel that rolled back), one short transaction per leg: the leg's
authorisation row is locked, its state read, the undo asked (keyed by the authorisation, so a
retry after a lost answer repeats nothing at the gateway), then the child row and the machine's
transition written. A leg already undone is skipped, so running it twice does nothing twice; the
``SettleCancelledTenders`` job runs it again for cancelled orders a failed run left open.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlmodel import Session, select

from runtime.db import lock_row
from runtime.money import Money
from runtime.orders.models import Order
from runtime.orders.transitions import apply
from runtime.payments.models import PaymentTransaction
from runtime.state_machines.effects import EffectCall
from runtime.state_machines.service import SystemActor
from runtime.tenders.models import PaymentTender
from runtime.tenders.types import Undo, tender_types

log = logging.getLogger(__name__)

CANCEL = SystemActor("system:cancel")
#: Authorisation states whose money is still held or taken.
OPEN = ("pending", "authorized", "partially_captured", "captured", "partially_refunded")
#: Cancelled orders one settle run looks at.
BATCH = 500


def undo_tenders_effect(call: EffectCall) -> None:
    """The ``core.undo_tenders`` effect: after commit, on a worker (or in-process)."""
    undo_order_tenders(current_app._get_current_object(), [int(i) for i in call.entity_ids])


def undo_order_tenders(app: Flask, order_ids: list[int]) -> list[tuple[int, str]]:
    """Undo every open leg of the orders; returns ``(tender id, "void"|"refund")`` of what it did now."""
    database = app.extensions["vectis.db"]
    with database.session() as session:
        tenders = list(session.exec(select(PaymentTender.id).where(PaymentTender.order_id.in_(order_ids))
                                    .order_by(PaymentTender.order_id, PaymentTender.position)))
    done = []
    for tender_id in tenders:
        kind = database.run(lambda session, tender_id=tender_id: _undo_leg(app, session, tender_id))
        if kind is not None:
            done.append((tender_id, kind))
    return done


def _undo_leg(app: Flask, session: Session, tender_id: int) -> str | None:
    tender = session.get(PaymentTender, tender_id)
    if tender.payment_transaction_id is None:
        return None
    payment = lock_row(session, PaymentTransaction, tender.payment_transaction_id)
    if payment.state not in OPEN:
        return None
    order = session.get(Order, tender.order_id)
    if payment.state in ("pending", "authorized"):
        kind, transition = "void", "fail" if payment.state == "pending" else "void"
        amount = payment.amount - payment.captured_amount
    else:
        kind, transition = "refund", "refund"
        amount = payment.captured_amount - payment.refunded_amount
    money = Money(amount, payment.currency)
    undo = Undo(kind, money, f"{payment.idempotency_key}:cancel-{kind}")
    entry = tender_types(app).get(tender.type)
    if entry is None:
        raise LookupError(f"tender type {tender.type!r} of tender {tender.id} is not registered (was its pack removed?)")
    reference = entry.value.undo(session, order, payment, undo)
    if kind == "refund":
        payment.refunded_amount += amount
    apply(session, payment, transition, CANCEL, {"amount": float(amount)} if kind == "refund" else None)
    session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type=kind, state="succeeded",
                                   gateway=payment.gateway, gateway_reference=reference, idempotency_key=undo.key,
                                   amount=amount, currency=payment.currency, actor=CANCEL.label,
                                   message=f"{kind} on cancel of order {order.number}"))
    order.payment_status = "refunded" if kind == "refund" else "voided"
    session.add(order)
    return kind


def settle_cancelled_tenders(app: Flask | None = None) -> int:
    """The periodic retry: cancelled orders with a leg still open get their undo again."""
    app = app or current_app._get_current_object()
    with app.extensions["vectis.db"].session() as session:
        ids = list(session.exec(
            select(PaymentTender.order_id).join(PaymentTransaction, PaymentTransaction.id ==
                                                PaymentTender.payment_transaction_id)
            .join(Order, Order.id == PaymentTender.order_id)
            .where(Order.state == "cancelled", PaymentTransaction.state.in_(OPEN)).distinct().limit(BATCH)))
    if ids:
        return len(undo_order_tenders(app, ids))
    return 0
