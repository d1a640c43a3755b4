"""Fraud holds: a gateway's review answer puts the order ``held_for_review`` (nothing ships: only
``paid`` orders do); staff with ``orders.review_fraud`` release it (the held legs are authorised,
the order paid) or reject it (the order cancelled, which undoes every tender after commit)."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.clock import utcnow
from runtime.db import lock_row
from runtime.errors import BusinessError
from runtime.orders.models import Order
from runtime.orders.service import get_order, mark_transition, transition_order
from runtime.orders.transitions import apply
from runtime.payments import gateway as gateways
from runtime.payments.models import PaymentTransaction
from runtime.state_machines.service import SystemActor
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.models import PaymentTender

#: Who holds an order at checkout: the gateway's answer, not the buyer's permission.
REVIEW = SystemActor("system:fraud-review")
#: Who authorises a held leg once staff released the order (the machine's ``authorize`` needs no permission).
RELEASE = SystemActor("system:fraud-release")


def hold(session: Session, order: Order, held: list[dict[str, Any]]) -> None:
    """At checkout: ``held`` names each tender the gateway put in review."""
    order.payment_status = "pending"
    order.fraud_status = "review"
    order.fraud_details = {"held": held, "held_at": utcnow().isoformat()}
    mark_transition(session, order, "hold_for_review", REVIEW)


def _held_order(session: Session, actor: Actor, order_id: Any) -> Order:
    order = get_order(session, actor, order_id)
    order = lock_row(session, Order, order.id)
    if order.state != "held_for_review":
        raise BusinessError(TenderErrorCode.NOT_HELD_FOR_REVIEW, f"orderId: order {order.number} is {order.state}, "
                            "not held for review", field="orderId")
    return order


def release_fraud_hold(session: Session, actor: Actor, order_id: Any) -> Order:
    """Authorise the held legs (telling the gateway, when it offers ``resolve_review``) and pay the order."""
    order = _held_order(session, actor, order_id)
    held = list(session.exec(select(PaymentTransaction).join(PaymentTender, PaymentTender.payment_transaction_id ==
                                                             PaymentTransaction.id)
                             .where(PaymentTender.order_id == order.id, PaymentTransaction.state == "pending")))
    for payment in held:
        provider = gateways.gateway_for(session, order.channel_id, payment.gateway)
        resolve = getattr(provider.value, "resolve_review", None)
        if callable(resolve):
            gateways.call(lambda p=payment: resolve(p.gateway_reference, True, provider.config), field="orderId")
        payment.fraud_hold = False
        apply(session, payment, "authorize", RELEASE)
    legs = list(session.exec(select(PaymentTransaction.state).join(PaymentTender, PaymentTender.payment_transaction_id ==
                                                                   PaymentTransaction.id)
                             .where(PaymentTender.order_id == order.id)))
    order.payment_status = "captured" if legs and all(state == "captured" for state in legs) else "authorized"
    order.fraud_status = "released"
    order.fraud_details = {**(order.fraud_details or {}), "released_by": actor.label, "released_at": utcnow().isoformat()}
    return transition_order(session, order, "release_fraud_hold", actor)


def reject_fraud_hold(session: Session, actor: Actor, order_id: Any, reason: str) -> Order:
    """Cancel the held order (``reject_fraud_hold``): its stock, promotion usage and tenders are given back."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, "reason: say why, in 1 to 500 characters", field="reason")
    order = _held_order(session, actor, order_id)
    order.fraud_status = "rejected"
    order.fraud_details = {**(order.fraud_details or {}), "rejected_by": actor.label, "rejected_at": utcnow().isoformat(),
                           "reason": reason}
    return transition_order(session, order, "reject_fraud_hold", actor)
