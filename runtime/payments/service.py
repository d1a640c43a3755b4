"""Payments: checkout payment (:func:`pay_order`, in ``checkout.py``), saved methods (``methods.py``)
and the staff's follow-ups on an authorization — capture, void, refund — each a child row plus
the ``payment_transaction`` machine's transition on the authorization, gateway first.

A follow-up's gateway idempotency key derives from the authorization and what it has captured or
refunded so far, so a retry of the same staff call after a lost answer reaches the gateway with
the same key (and gets the same result), while the next partial capture is a new request.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import AmountError, Money, minor_units, parse_decimal
from runtime.orders.models import Order
from runtime.orders.service import mark_transition
from runtime.orders.transitions import apply
from runtime.payments import gateway as gateways
from runtime.payments.checkout import pay_order
from runtime.payments.errors import PaymentErrorCode
from runtime.payments.events import payment_event
from runtime.payments.methods import (add_saved_payment_method, list_saved_payment_methods,
                                      remove_saved_payment_method, validate_payment_method)
from runtime.payments.models import PaymentTransaction

__all__ = ["add_saved_payment_method", "capture_payment", "get_payment", "list_saved_payment_methods",
           "pay_order", "payments_of", "refund_payment", "remove_saved_payment_method",
           "validate_payment_method", "void_payment"]

#: Rows that hold money at a gateway; follow-ups name one of them.
PARENT_TYPES = ("authorization", "charge")
#: What another domain has promised to give back from a payment but not yet given (approved refund
#: requests, :mod:`runtime.refunds`): ``reserved(session, payment) -> Decimal``. A direct
#: refundPayment leaves it alone, so both paths together never refund more than was captured.
REFUND_RESERVATIONS: list[Callable[[Session, PaymentTransaction], Decimal]] = []


def get_payment(session: Session, payment_id: Any, *, lock: bool = False, field: str = "paymentId") -> PaymentTransaction:
    """An authorization or charge row (locked FOR UPDATE on PostgreSQL when ``lock``)."""
    try:
        number = int(str(payment_id))
    except ValueError:
        number = 0
    statement = select(PaymentTransaction).where(PaymentTransaction.id == number)
    row = session.exec(statement.with_for_update() if lock else statement).first() if 0 < number < 2**31 else None
    if row is None or row.order_id is None:
        raise BusinessError(PaymentErrorCode.NOT_FOUND, f"{field}: no payment {payment_id}", field=field)
    if row.type not in PARENT_TYPES:
        raise BusinessError(PaymentErrorCode.NOT_AN_AUTHORIZATION,
                            f"{field}: payment {payment_id} is a {row.type}; name its authorization ({row.parent_id})",
                            field=field)
    return row


def capture_payment(session: Session, actor: Actor, payment_id: Any, amount: str | None = None) -> PaymentTransaction:
    """Capture ``amount`` (default: all that remains) of an authorization; partial captures allowed."""
    auth = get_payment(session, payment_id, lock=True)
    remaining = auth.amount - auth.captured_amount
    value = _amount(amount, auth.currency) if amount is not None else remaining
    if value > remaining:
        raise BusinessError(PaymentErrorCode.INVALID_AMOUNT,
                            f"amount: cannot capture {_fmt(value, auth)} {auth.currency}; {_fmt(remaining, auth)} of {_fmt(auth.amount, auth)} remains to capture",
                            field="amount")
    transition = "capture" if value == remaining else "capture_partial"
    check_transition(session, auth, transition, actor, value)
    key = f"{auth.idempotency_key}:capture:{_fmt(auth.captured_amount, auth)}:{_fmt(value, auth)}"
    result = _gateway(session, auth, lambda gw, cfg: gw.capture(auth.gateway_reference, Money(value, auth.currency), key, cfg),
                      lambda tender, order: tender.capture(session, order, auth, Money(value, auth.currency), key))
    auth.captured_amount += value
    return record_operation(session, auth, actor, transition, "capture", key, value, result, "payment.captured")


def void_payment(session: Session, actor: Actor, payment_id: Any) -> PaymentTransaction:
    """Void an uncaptured authorization: nothing of it can be captured afterwards."""
    auth = get_payment(session, payment_id, lock=True)
    check_transition(session, auth, "void", actor, None)
    key = f"{auth.idempotency_key}:staff-void"
    remaining = Money(auth.amount - auth.captured_amount, auth.currency)
    result = _gateway(session, auth, lambda gw, cfg: gw.void(auth.gateway_reference, key, cfg),
                      lambda tender, order: tender.undo(session, order, auth, TenderUndo("void", remaining, key)))
    return record_operation(session, auth, actor, "void", "void", key, auth.amount - auth.captured_amount, result, None)


def refund_payment(session: Session, actor: Actor, payment_id: Any, amount: str | None = None) -> PaymentTransaction:
    """Refund ``amount`` (default: all captured and not yet refunded); partial refunds allowed."""
    # The order's row first, as a refund request's approval takes it: the two cannot both spend the room.
    order_id = get_payment(session, payment_id).order_id
    session.exec(select(Order.id).where(Order.id == order_id).with_for_update()).first()
    auth = get_payment(session, payment_id, lock=True)
    promised = sum((reserved(session, auth) for reserved in REFUND_RESERVATIONS), Decimal(0))
    remaining = auth.captured_amount - auth.refunded_amount - promised
    value = _amount(amount, auth.currency) if amount is not None else remaining
    if value > remaining or (promised and value <= 0):
        held = f" ({_fmt(promised, auth)} is promised to approved refund requests)" if promised else ""
        raise BusinessError(PaymentErrorCode.INVALID_AMOUNT,
                            f"amount: cannot refund {_fmt(value, auth)} {auth.currency}; {_fmt(max(remaining, Decimal(0)), auth)} of "
                            f"the {_fmt(auth.captured_amount, auth)} captured remains to refund{held}",
                            field="amount")
    remaining = auth.captured_amount - auth.refunded_amount
    transition = "refund" if value == remaining and auth.captured_amount == auth.amount else "refund_partial"
    check_transition(session, auth, transition, actor, value)
    key = f"{auth.idempotency_key}:refund:{_fmt(auth.refunded_amount, auth)}:{_fmt(value, auth)}"
    result = _gateway(session, auth, lambda gw, cfg: gw.refund(auth.gateway_reference, Money(value, auth.currency), key, cfg),
                      lambda tender, order: tender.undo(session, order, auth, TenderUndo("refund", Money(value, auth.currency), key)))
    auth.refunded_amount += value
    return record_operation(session, auth, actor, transition, "refund", key, value, result, "payment.refunded")


def payments_of(session: Session, order_ids: list[int]) -> dict[int, list[PaymentTransaction]]:
    """Every payment row of the orders, oldest first, in one query."""
    found: dict[int, list[PaymentTransaction]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        rows = session.exec(select(PaymentTransaction).where(PaymentTransaction.order_id.in_(order_ids))
                            .order_by(PaymentTransaction.id))
        for row in rows:
            found[row.order_id].append(row)
    return found


def _fmt(value: Decimal, auth: PaymentTransaction) -> str:
    return format(Money(value, auth.currency).amount, "f")


def _amount(text: str, currency: str) -> Decimal:
    places = minor_units(currency)
    try:
        value = parse_decimal(str(text), "amount", places=places)
    except AmountError as exc:
        if exc.reason == "too_precise":
            raise BusinessError(PaymentErrorCode.INVALID_AMOUNT, f"amount: {currency} has {places} decimal places, "
                                f"got {text!r}", field="amount") from None
        if exc.reason == "too_large":
            raise BusinessError(PaymentErrorCode.INVALID_AMOUNT, str(exc), field="amount") from None
        value = None
    if value is None or value <= 0:
        raise BusinessError(PaymentErrorCode.INVALID_AMOUNT, f"amount: expected a positive decimal like \"10.00\", got {text!r}",
                            field="amount")
    return value


def check_transition(session: Session, auth: PaymentTransaction, transition: str, actor: Actor, amount: Decimal | None) -> None:
    """The machine's verdict before the gateway is called (nothing moves when it refuses)."""
    from flask import current_app

    from runtime.state_machines.bindings import bindings
    from runtime.state_machines.service import _permissions, live_machine

    binding = bindings(current_app).for_entity(auth)
    machine = live_machine(current_app, binding.machine).compiled
    context = None if amount is None else {"amount": float(amount)}
    blockers = machine.can_fire(auth.state, transition, binding.fact(auth), _permissions(actor), context)
    if blockers:
        raise BusinessErrors([_blocked(b.code.value, b.message, transition) for b in blockers])


def _blocked(code: str, message: str, transition: str) -> BusinessError:
    known = code in PaymentErrorCode.__members__
    return BusinessError(code if known else PaymentErrorCode.PAYMENT_STATE_INVALID.value,
                         f"paymentId: {transition}: {message}", field="paymentId", transition=transition)


#: The registry slot of tender types (``runtime.tenders``, above this module, fills it).
TENDER_TYPE_SLOT = "tender_type"


@dataclass(frozen=True)
class TenderUndo:
    """What a tender type's ``undo`` reads: ``void`` or ``refund`` of ``amount`` under ``key``."""

    kind: str
    amount: Money
    key: str


@dataclass(frozen=True)
class _Answer:
    """A tender type's answer in the shape of a gateway's (the reference of what it wrote)."""

    transaction_id: str | None
    raw: dict = field(default_factory=dict)


def internal_tender(auth: PaymentTransaction) -> Any:
    """The tender type holding ``auth`` when no gateway does (store credit, a gift card, terms, a
    pack's bank debit): its ``gateway`` is the type's registry key. None for a gateway's payment."""
    entry = current_app.extensions["vectis.registry"].get(auth.gateway)
    return entry.value if entry is not None and entry.slot == TENDER_TYPE_SLOT else None


def _gateway(session: Session, auth: PaymentTransaction, operation, internal=None):
    """Run ``operation`` at the payment's gateway, or ``internal`` through its tender type (each
    with the follow-up's key, so a retried staff call repeats nothing)."""
    order = session.get(Order, auth.order_id)
    tender = internal_tender(auth)
    if tender is not None and internal is not None:
        return _Answer(internal(tender, order))
    provider = gateways.gateway_for(session, order.channel_id, auth.gateway)
    return gateways.call(lambda: operation(provider.value, provider.config), field="paymentId")


def record_operation(session: Session, auth: PaymentTransaction, actor: Actor, transition: str, kind: str, key: str,
                     value: Decimal, result, event: str | None) -> PaymentTransaction:
    """After the gateway (or tender type) answered: the machine's transition, the child row and the event."""
    context = {"amount": float(value)} if transition.endswith("_partial") else None
    apply(session, auth, transition, actor, context)
    child = PaymentTransaction(order_id=auth.order_id, parent_id=auth.id, type=kind, state="succeeded",
                               gateway=auth.gateway, gateway_reference=result.transaction_id, idempotency_key=key,
                               amount=value, currency=auth.currency, actor=actor.label, raw=dict(result.raw))
    session.add(child)
    order = session.get(Order, auth.order_id)
    order.payment_status = auth.state
    session.add(order)
    if order.state == "placed" and auth.state == "captured":
        mark_transition(session, order, "pay", actor)
    if event is not None:
        payment_event(session, event, auth, order, Money(value, auth.currency))
    session.flush()
    return child
