"""The ``payment.*`` outbox events (schemas in ``schemas/events/payment.*.schema.json``)."""
from __future__ import annotations

from sqlmodel import Session

from runtime.events import emit
from runtime.money import Money
from runtime.orders.models import Order
from runtime.payments.models import PaymentTransaction


def payment_event(session: Session, type_: str, payment: PaymentTransaction, order: Order | None, amount: Money) -> None:
    """``type_`` (``payment.authorized``, ``payment.captured``, ``payment.refunded``) for ``amount``
    of the authorization ``payment``, keyed by the payment's id."""
    payload = {"payment_id": str(payment.id), "gateway": payment.gateway, "amount": format(amount.amount, "f"),
               "currency": amount.currency}
    if payment.gateway_reference:
        payload["reference"] = payment.gateway_reference
    if order is not None:
        payload["order_id"] = str(order.id)
        for name in ("account_id", "customer_id"):
            if getattr(order, name) is not None:
                payload[name] = str(getattr(order, name))
    emit(session, type_, payload, key=str(payment.id))
