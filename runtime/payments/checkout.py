"""Paying an order at checkout: authorize (and capture, in the channel's AUTHORIZE_AND_CAPTURE
mode) at the channel's gateway, in the caller's transaction.

The gateway is outside the database, so two hooks keep them consistent:

* if the caller's transaction rolls back after the gateway took the money, the authorization is
  voided (or the capture refunded) at the gateway, and a ``void``/``refund`` row records it in a
  short transaction of its own;
* a declined or failed attempt records nothing in the caller's transaction (it rolls back), but a
  ``payment.failed`` event is written once that transaction ends, so the attempt is traceable.

Gateway idempotency keys derive from the caller's key (the checkout passes
``order:<cart id>:<client key>``) and the payment token, so a retried ``placeOrder`` reaches the
gateway with the same key. After a rollback voided attempt ``n``, the next attempt uses ``n + 1``
(the void rows say which attempts were voided): the gateway would otherwise answer the retry
with its stored result for the voided authorization.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.channels.models import CaptureMode, Channel
from runtime.db import after_commit, after_rollback
from runtime.errors import BusinessError
from runtime.events import emit
from runtime.money import Money
from runtime.orders.models import Order
from runtime.orders.service import mark_transition
from runtime.orders.transitions import apply_chain
from runtime.packs.api import PaymentRequest, PaymentResult
from runtime.payments import gateway as gateways
from runtime.payments.errors import PaymentErrorCode
from runtime.payments.events import payment_event
from runtime.payments.methods import usable_method
from runtime.payments.models import PaymentTransaction
from runtime.state_machines.service import SystemActor

log = logging.getLogger(__name__)

#: Attempts of one payment key a rollback may void before the key is refused.
MAX_ATTEMPTS = 8
#: Who captures at checkout in AUTHORIZE_AND_CAPTURE mode: the channel's setting, not the buyer's permission.
CHECKOUT = SystemActor("system:checkout")


@dataclass(frozen=True)
class CardAuthorization:
    """One card authorisation the gateway answered (authorized, or pending for fraud review)."""

    provider: Any
    key: str
    amount: Money
    result: PaymentResult
    capture: PaymentResult | None
    method: Any


def pay_order(session: Session, order: Order, *, channel: Channel, actor: Actor, idempotency_key: str,
              token: str | None = None, saved_payment_method_id: int | None = None) -> PaymentTransaction:
    """Authorize (and capture, per the channel's capture mode) the order's total.

    Declined → PAYMENT_DECLINED with the gateway's reason; no answer → PAYMENT_UNAVAILABLE;
    held for fraud review → the row stays ``pending`` (``fraud_hold``) and the order ``placed``.
    """
    card = authorize_card(session, channel=channel, payer=order, idempotency_key=idempotency_key,
                          amount=Money(order.total, order.currency), token=token,
                          saved_payment_method_id=saved_payment_method_id, metadata={"order": order.number})
    return record_card(session, order, actor, card)


def authorize_card(session: Session, *, channel: Channel, payer: Any, idempotency_key: str, amount: Money,
                   token: str | None = None, saved_payment_method_id: int | None = None, leg: str = "",
                   field: str = "payment", metadata: dict | None = None,
                   before_call: Callable[[str, Any], None] | None = None) -> CardAuthorization:
    """Authorize ``amount`` at the channel's gateway (and capture it in AUTHORIZE_AND_CAPTURE mode).

    ``payer`` is the order or the cart (its customer, account and location own saved methods).
    ``leg`` tells apart several cards of one checkout in the gateway key; ``before_call(key,
    provider)`` runs just before the gateway is asked (the intent journal). If the caller's
    transaction rolls back afterwards, the authorization is voided (or the capture refunded).
    """
    with session.no_autoflush:  # the order's pending rows join the flush that inserts the payment
        provider = gateways.channel_gateway(session, channel.id)
        method = None
        if saved_payment_method_id is not None:
            method = usable_method(session, saved_payment_method_id, customer_id=payer.customer_id,
                                   account_id=payer.account_id, location_id=payer.location_id)
            token = method.token
        if not token:
            raise BusinessError(PaymentErrorCode.MISSING_PAYMENT, f"{field}: a card token or a saved payment method is needed",
                                field=field)
        base = f"pay:{_bounded(idempotency_key)}:{_token_mark(token)}{leg}"
        key = f"{base}:a{_attempt(session, base)}"
    request = PaymentRequest(reference=idempotency_key[:255], amount=amount, idempotency_key=key,
                             payment_token=token, metadata=dict(metadata or {}))
    app = current_app._get_current_object()
    if before_call is not None:
        before_call(key, provider)
    try:
        result = gateways.call(lambda: provider.value.authorize(request, provider.config), field=field)
    except BusinessError as exc:
        _trace_failure(session, app, provider.key, key, amount, payer, exc.message)
        raise
    if result.status == "failed":
        reason = result.message or result.error_code or "declined"
        _trace_failure(session, app, provider.key, result.transaction_id, amount, payer, reason)
        raise BusinessError(PaymentErrorCode.PAYMENT_DECLINED, f"{field}: the card was declined: {reason}",
                            field=field, decline_code=result.error_code)
    capture = None
    if result.status == "authorized" and channel.capture_mode == CaptureMode.AUTHORIZE_AND_CAPTURE.value:
        capture = _capture_now(session, app, provider, result, amount, key, payer, field)
    after_rollback(session, lambda: _undo(app, provider, result, capture, key, channel.id))
    return CardAuthorization(provider, key, amount, result, capture, method)


def _capture_now(session, app, provider, result: PaymentResult, amount: Money, key: str, payer: Any,
                 field: str) -> PaymentResult:
    try:
        return gateways.call(lambda: provider.value.capture(result.transaction_id, amount, f"{key}:capture", provider.config),
                             field=field)
    except BusinessError as exc:
        # The authorization must not outlive the refusal: void it now, whatever the caller does next.
        _void_quietly(provider, result.transaction_id, f"{key}:void")
        _trace_failure(session, app, provider.key, result.transaction_id, amount, payer, exc.message, operation="capture")
        raise BusinessError(PaymentErrorCode.PAYMENT_UNAVAILABLE, exc.message, field=field) from None


def record_card(session: Session, order: Order, actor, card: CardAuthorization, *, move_order: bool = True,
                events: bool = True) -> PaymentTransaction:
    """The authorization row (and capture row) of ``card`` for ``order``; with ``move_order``, the
    order's payment status and its ``pay`` transition follow (one tender pays the whole order)."""
    result, capture, amount, key = card.result, card.capture, card.amount, card.key
    pending = result.status == "pending"
    row = PaymentTransaction(order_id=order.id, type="authorization", state="pending", gateway=card.provider.key,
                             gateway_reference=result.transaction_id, idempotency_key=key, amount=amount.amount,
                             currency=amount.currency, fraud_hold=pending, error_code=result.error_code,
                             message=result.message, saved_payment_method_id=card.method.id if card.method else None,
                             actor=actor.label, raw=dict(result.raw))
    session.add(row)
    if pending:
        if move_order:
            order.payment_status = "pending"
            session.add(order)
        return row
    if move_order:
        # The order moves first, so its UPDATE joins the flush that inserts the payment row.
        order.payment_status = "captured" if capture is not None else "authorized"
        mark_transition(session, order, "pay", actor)
    steps = [("authorize", actor, None)]
    movements = [("payment.authorized", amount)]
    if capture is not None:
        row.captured_amount = amount.amount
        steps.append(("capture", CHECKOUT, {"amount": float(amount.amount)}))
        movements.append(("payment.captured", amount))
    apply_chain(session, row, steps)
    if capture is not None:
        session.add(PaymentTransaction(order_id=order.id, parent_id=row.id, type="capture", state="succeeded",
                                       gateway=card.provider.key, gateway_reference=capture.transaction_id,
                                       idempotency_key=f"{key}:capture", amount=amount.amount, currency=amount.currency,
                                       actor=CHECKOUT.label, raw=dict(capture.raw)))
    if events:
        for type_, money in movements:
            payment_event(session, type_, row, order, money)
    return row


def _attempt(session: Session, base: str) -> int:
    """The first attempt of ``base`` no rollback has voided (one indexed lookup)."""
    keys = [f"{base}:a{n}:void" for n in range(MAX_ATTEMPTS)] + [f"{base}:a{n}:refund" for n in range(MAX_ATTEMPTS)]
    undone = set(session.exec(select(PaymentTransaction.idempotency_key)
                              .where(PaymentTransaction.idempotency_key.in_(keys))))
    for n in range(MAX_ATTEMPTS):
        if f"{base}:a{n}:void" not in undone and f"{base}:a{n}:refund" not in undone:
            return n
    raise BusinessError(PaymentErrorCode.PAYMENT_UNAVAILABLE,
                        f"idempotencyKey: {MAX_ATTEMPTS} attempts with this key were rolled back; use a new key",
                        field="idempotencyKey")


def _undo(app, provider, result: PaymentResult, capture: PaymentResult | None, key: str, channel_id: int) -> None:
    """After the caller's rollback: give the money back at the gateway and record that we did.

    A concurrent attempt with the same key got the same authorization from the gateway; if that
    attempt committed, the authorization is its order's and stays.
    """
    database = app.extensions["vectis.db"]
    with database.session() as session:
        kept = session.exec(select(PaymentTransaction.id).where(PaymentTransaction.idempotency_key == key)).first()
    if kept is not None:
        return
    amount = result.amount
    if capture is not None:
        kind, undo_key = "refund", f"{key}:refund"
        done = provider.value.refund(result.transaction_id, amount, undo_key, provider.config)
    else:
        kind, undo_key = "void", f"{key}:void"
        done = provider.value.void(result.transaction_id, undo_key, provider.config)
    note = "the order's transaction rolled back"
    row = PaymentTransaction(type=kind, state="succeeded", gateway=provider.key, gateway_reference=done.transaction_id,
                             idempotency_key=undo_key, amount=amount.amount, currency=amount.currency,
                             message=f"{kind} of {result.transaction_id}: {note}", raw=dict(done.raw))
    with app.app_context():
        database.run(lambda session: session.add(row))


def _void_quietly(provider, transaction_id: str, key: str) -> None:
    try:
        provider.value.void(transaction_id, key, provider.config)
    except Exception:  # the refusal the caller sees is the capture's
        log.exception("voiding authorization %s after a failed capture failed", transaction_id)


def _trace_failure(session, app, gateway: str, payment_id: str, amount: Money, payer: Any, reason: str,
                   operation: str = "authorize") -> None:
    """``payment.failed`` once the caller's transaction ends (it holds the write lock until then)."""
    payload: dict[str, Any] = {"payment_id": payment_id[:128], "gateway": gateway, "amount": format(amount.amount, "f"),
                               "currency": amount.currency, "operation": operation, "reason": reason[:500] or "failed"}
    for name in ("account_id", "customer_id"):
        if getattr(payer, name) is not None:
            payload[name] = str(getattr(payer, name))
    written = []

    def write() -> None:
        if written:
            return
        written.append(True)
        with app.app_context():
            app.extensions["vectis.db"].run(lambda s: emit(s, "payment.failed", payload, key=payment_id[:128]))

    after_rollback(session, write)
    after_commit(session, write)


def _bounded(value: str) -> str:
    return value if len(value) <= 80 else hashlib.sha256(value.encode()).hexdigest()[:40]


def _token_mark(token: str) -> str:
    """A keyed digest of the payment token: a new card gets a new gateway key, and no card number
    can be read back from a key."""
    secret = str(current_app.config["VECTIS"].secret_key).encode()
    return hmac.new(secret, token.encode(), hashlib.sha256).hexdigest()[:16]
