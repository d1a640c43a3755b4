"""Staff re-curation of an order's tender split (``recurateCascade``).

An order's payment *faults* when a leg stops holding its money while the order still needs it: a
card authorisation expired (``VoidExpiringCardAuths``), was voided by staff, or failed. An
approver (``payments.tenders.recurate``) then names new tenders for what the faulted legs covered;
the legs still holding money stay. The new legs are authorised through their tender types exactly
as at checkout (a card at the channel's gateway with its intent journaled, store credit and gift
cards held on their ledgers, terms reserved), written on the ``payment_transaction`` machine, and
replace the faulted legs, so the order's tenders again add up to its total. Each re-curation is
kept (:class:`TenderRecuration`): who, why, the split before and after.

One transaction: a refusal (bad input, a decline, an insufficient balance) rolls everything back;
a card leg the gateway authorised before the refusal is voided by its rollback hook, as at checkout.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.carts.models import Cart
from runtime.channels.models import CaptureMode, Channel
from runtime.db import lock_row
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.orders.models import Order
from runtime.orders.service import get_order, transition_order
from runtime.payments.checkout import record_card
from runtime.payments.models import PaymentTransaction
from runtime.tenders.checkout import record_internal
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.models import PaymentTender, TenderRecuration
from runtime.tenders.service import MAX_TENDERS, check_adds_up, check_tenders, order_tenders
from runtime.tenders.types import TenderCall, TenderLeg

#: Staff permission to replace an order's faulted tenders.
RECURATE = "payments.tenders.recurate"
#: Authorisation states of a leg that no longer holds the money it was meant to.
FAULTED = ("failed", "voided", "authorization_expired")
#: Orders whose payment may be re-curated: placed or paid, not yet shipped, cancelled or held
#: for a fraud review (which has its own release / reject).
ORDER_STATES = ("placed", "paid")
#: The ``source`` of a leg an approver named.
SOURCE = "recurated"


def recurate_cascade(session: Session, actor: Actor, order_id: Any, new_cascade: list[dict[str, Any]],
                     reason: str) -> tuple[Order, TenderRecuration]:
    """Replace the faulted legs of order ``order_id`` by ``new_cascade`` (each with an amount; they
    must add up to what the faulted legs covered). Refusals raise before anything is kept."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, "reason: say why, in 1 to 500 characters", field="reason")
    order = lock_row(session, Order, get_order(session, actor, order_id).id)
    legs = order_tenders(session, [order.id])[order.id]
    payments = {leg.id: lock_row(session, PaymentTransaction, leg.payment_transaction_id)
                for leg in legs if leg.payment_transaction_id is not None}
    faulted = [leg for leg in legs if leg.id not in payments or payments[leg.id].state in FAULTED]
    if order.state not in ORDER_STATES or not faulted:
        why = f"is {order.state}" if order.state not in ORDER_STATES else "has no faulted tender"
        raise BusinessError(TenderErrorCode.NOT_FAULTED, f"orderId: order {order.number} {why}; only a placed or paid "
                            "order whose tender failed, expired or was voided can be re-curated", field="orderId")
    due = Money(order.total - sum((leg.amount for leg in legs if leg not in faulted), Decimal(0)), order.currency).amount
    cart = session.get(Cart, order.cart_id) if order.cart_id is not None else None
    if cart is None:
        raise BusinessError(TenderErrorCode.NOT_FOUND, f"orderId: order {order.number} has no cart to pay from",
                            field="orderId")
    wanted = _parse(session, actor, cart, order, new_cascade, due)
    before = [_snapshot(leg, payments.get(leg.id)) for leg in legs]
    sequence = 1 + session.exec(select(func.count()).select_from(TenderRecuration)
                                .where(TenderRecuration.order_id == order.id)).one()
    channel = session.get(Channel, order.channel_id)
    call = TenderCall(session=session, app=current_app._get_current_object(), channel=channel, actor=actor, cart=cart,
                      reference=f"recurate:{order.id}:{sequence}",
                      capture=channel.capture_mode == CaptureMode.AUTHORIZE_AND_CAPTURE.value)
    first = 1 + max((leg.position for leg in legs), default=-1)
    added = []
    for index, (entry, amount, details) in enumerate(wanted):
        leg = TenderLeg(index, entry.name, Money(amount, order.currency), SOURCE, details)
        try:
            authorized = entry.value.authorize(call, leg)
        except BusinessError as exc:  # the type names tenders[i]; the caller named newCascade[i]
            raise _renamed(exc, index) from None
        card = authorized.links.get("card")
        row = (record_card(session, order, actor, card, move_order=False) if card is not None
               else record_internal(session, order, actor, leg, authorized))
        entry.value.link(session, order, authorized)
        added.append((leg, authorized, row))
    for leg in faulted:  # their authorisation rows stay: the money's record; the split no longer names them
        session.delete(leg)
    session.flush()
    new_rows = [PaymentTender(order_id=order.id, position=first + leg.position, type=leg.type,
                              amount=leg.amount.amount, currency=leg.amount.currency, source=SOURCE,
                              gateway=authorized.gateway, reference=authorized.reference, payment_transaction_id=row.id,
                              due_at=authorized.due_at, details={"recuration": sequence})
                for leg, authorized, row in added]
    session.add_all(new_rows)
    session.flush()
    kept = [leg for leg in legs if leg not in faulted]
    states = [payments[leg.id].state for leg in kept] + [row.state for _leg, _a, row in added]
    order.payment_status = ("pending" if "pending" in states else
                            "captured" if all(state == "captured" for state in states) else "authorized")
    record = TenderRecuration(order_id=order.id, sequence=sequence, actor=actor.label, reason=reason, before=before,
                              after=[_snapshot(leg, payments.get(leg.id)) for leg in kept] +
                                    [_snapshot(tender, row) for tender, (_l, _a, row) in zip(new_rows, added)])
    session.add(record)
    if order.state == "placed" and order.payment_status != "pending":
        transition_order(session, order, "pay", actor)
    session.add(order)
    session.flush()
    return order, record


def recurations(session: Session, order_id: int) -> list[TenderRecuration]:
    return list(session.exec(select(TenderRecuration).where(TenderRecuration.order_id == order_id)
                             .order_by(TenderRecuration.sequence)))


def _parse(session: Session, actor: Actor, cart: Cart, order: Order, values: list[dict[str, Any]],
           due: Decimal) -> list[tuple[Any, Decimal, dict]]:
    """Each new tender checked by its type, every problem at once; the amounts must add up to ``due``."""
    if not values or len(values) > MAX_TENDERS:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"newCascade: 1 to {MAX_TENDERS} tenders, got {len(values)}",
                            field="newCascade")
    wanted = check_tenders(session, actor, cart, values, field="newCascade", currency=order.currency,
                           amount_named_by="a re-curated tender")
    check_adds_up([amount for _e, amount, _d in wanted], due, order.currency, "newCascade", "the faulted tenders covered")
    return wanted


def _renamed(exc: BusinessError, index: int) -> BusinessError:
    old = f"tenders[{index}]"
    field = exc.field.replace(old, f"newCascade[{index}]", 1) if exc.field else exc.field
    return BusinessError(exc.code, exc.message.replace(old, f"newCascade[{index}]", 1), field=field, **exc.params)


def _snapshot(tender: PaymentTender, payment: PaymentTransaction | None) -> dict[str, Any]:
    amount = Money(tender.amount, tender.currency).amount
    return {"position": tender.position, "type": tender.type, "amount": format(amount, "f"),
            "currency": tender.currency, "source": tender.source, "state": payment.state if payment else "unknown",
            "gateway": tender.gateway, "reference": tender.reference}
