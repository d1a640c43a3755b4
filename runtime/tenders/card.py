"""The ``card`` tender type: a gateway token or a saved card, authorised at the channel's gateway
(:func:`runtime.payments.checkout.authorize_card`), its intent journaled before the call.

An order modified (``modifyOrder``) changes a card leg's authorisation: an increase is an
incremental authorisation where the merchant account has the capability (undone by lowering it
again if the modification rolls back), else a new authorisation for the new amount whose
predecessor is voided once the modification commits; a decrease lowers the authorisation after
commit (a partial void), or leaves the surplus for the capture to release.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlmodel import Session, select

from runtime.carts.models import Cart
from runtime.channels.models import Channel
from runtime.db import after_commit, after_rollback, lock_row
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.orders.models import Order
from runtime.orders.transitions import apply
from runtime.payments import gateway as gateways
from runtime.payments.capabilities import capabilities_of
from runtime.payments.checkout import authorize_card, record_card
from runtime.payments.errors import PaymentErrorCode
from runtime.payments.gateway import gateway_for
from runtime.payments.methods import validate_payment_method
from runtime.payments.models import PaymentTransaction
from runtime.state_machines.service import SystemActor
from runtime.tenders.intents import journal
from runtime.tenders.models import CartTender, PaymentTender
from runtime.tenders.types import Authorized, TenderCall, TenderLeg, Undo

log = logging.getLogger(__name__)


class CardTender:
    def prepare(self, session: Session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        channel = session.get(Channel, cart.channel_id)
        saved = value.get("saved_payment_method_id")
        choice = validate_payment_method(session, actor, channel, token=value.get("token"),
                                         saved_payment_method_id=int(saved) if saved is not None else None)
        return {"token": choice["token"], "saved_payment_method_id": choice["saved_payment_method_id"]}

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        return None

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        details = leg.details or {}
        token_ref: dict[str, Any] = {"cart_id": call.cart.id}
        if leg.details.get("cart_tender_id") is not None:
            token_ref = {"tender_id": leg.details["cart_tender_id"]}
        if not details.get("token") and details.get("saved_payment_method_id") is None:
            details = call.cart.payment or {}  # a cascade's card step: the cart's payment (setCartPayment)
        if details.get("saved_payment_method_id") is not None:
            token_ref = {"saved_payment_method_id": details["saved_payment_method_id"]}
        single = leg.details.get("single", False)
        field = "payment" if single else leg.field
        card = authorize_card(call.session, channel=call.channel, payer=call.cart, idempotency_key=call.reference,
                              amount=leg.amount, token=details.get("token"),
                              saved_payment_method_id=details.get("saved_payment_method_id"),
                              leg="" if single else f":t{leg.position}", field=field,
                              before_call=journal(call.session, channel_id=call.channel.id, amount=leg.amount,
                                                  reference=call.reference, token_ref=token_ref))
        result = card.result
        return Authorized(status="captured" if card.capture is not None else result.status, gateway=card.provider.key,
                          key=card.key, reference=result.transaction_id, raw=dict(result.raw),
                          error_code=result.error_code, message=result.message,
                          capture_reference=card.capture.transaction_id if card.capture else None,
                          saved_payment_method_id=card.method.id if card.method else None, links={"card": card})

    def link(self, session: Session, order: Any, authorized: Authorized) -> None:
        """The card's rows are written by the payment stage (``record_card``); nothing else points at the order."""

    def adjust(self, session: Session, order: Any, payment: PaymentTransaction, amount: Money, key: str,
               field: str) -> PaymentTransaction:
        """The authorisation backing the leg once it holds ``amount`` (``payment`` itself, or a new one)."""
        provider = gateway_for(session, order.channel_id, payment.gateway)
        adjustable = callable(getattr(provider.value, "adjust_authorization", None))
        app = current_app._get_current_object()
        if amount.amount < payment.amount:
            if adjustable:
                after_commit(session, lambda: _lower_after_commit(app, payment.id, amount, f"{key}:lower"))
            payment.amount = amount.amount
            session.add(payment)
            return payment
        if adjustable and capabilities_of(provider.value, provider.config).incremental_auth:
            return _increase(session, app, order, payment, provider, amount, key, field)
        return _reauthorize(session, app, order, payment, amount, key, field)

    def undo(self, session: Session, order: Any, payment: Any, undo: Undo) -> str | None:
        provider = gateway_for(session, order.channel_id, payment.gateway)
        if undo.kind == "void":
            result = gateways.call(lambda: provider.value.void(payment.gateway_reference, undo.key, provider.config),
                                   field="paymentId")
        else:
            result = gateways.call(lambda: provider.value.refund(payment.gateway_reference, undo.amount, undo.key,
                                                                 provider.config), field="paymentId")
        return result.transaction_id


#: Who moves authorisations an order modification replaces or lowers.
MODIFY = SystemActor("system:modify")
#: Attempts of one modification key a rollback may undo before the key is refused.
MAX_ATTEMPTS = 8


def attempt_key(session: Session, base: str) -> str:
    """``base`` with the first attempt no rollback has undone (``<base>:a<n>``): the gateway would
    answer a retry of an undone attempt with its stored result."""
    keys = [f"{base}:a{n}:undo" for n in range(MAX_ATTEMPTS)]
    undone = set(session.exec(select(PaymentTransaction.idempotency_key)
                              .where(PaymentTransaction.idempotency_key.in_(keys))))
    for n in range(MAX_ATTEMPTS):
        if f"{base}:a{n}:undo" not in undone:
            return f"{base}:a{n}"
    raise BusinessError(PaymentErrorCode.PAYMENT_UNAVAILABLE,
                        f"input.idempotencyKey: {MAX_ATTEMPTS} attempts with this key were rolled back; use a new key",
                        field="input.idempotencyKey")


def _increase(session: Session, app, order: Any, payment: PaymentTransaction, provider, amount: Money, key: str,
              field: str) -> PaymentTransaction:
    """An incremental authorisation in the modification's transaction; a rollback lowers it again."""
    attempt = attempt_key(session, key)
    before = Money(payment.amount, payment.currency)
    result = gateways.call(lambda: provider.value.adjust_authorization(payment.gateway_reference, amount, attempt,
                                                                       provider.config), field=field)
    if result.status == "failed":
        reason = result.message or result.error_code or "declined"
        raise BusinessError(PaymentErrorCode.PAYMENT_DECLINED, f"{field}: the card declined the increase: {reason}",
                            field=field, decline_code=result.error_code)
    reference = payment.gateway_reference
    after_rollback(session, lambda: _restore(app, provider, reference, before, attempt))
    session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type="adjustment", state="succeeded",
                                   gateway=payment.gateway, gateway_reference=result.transaction_id,
                                   idempotency_key=attempt, amount=amount.amount, currency=amount.currency,
                                   actor=MODIFY.label, raw=dict(result.raw),
                                   message=f"incremental authorisation from {before.amount} to {amount.amount}"))
    payment.amount = amount.amount
    session.add(payment)
    return payment


def _restore(app, provider, reference: str, before: Money, attempt: str) -> None:
    """After a rollback: the authorisation back to what it held, recorded in its own transaction."""
    key = f"{attempt}:undo"
    done = provider.value.adjust_authorization(reference, before, key, provider.config)
    row = PaymentTransaction(type="adjustment", state="succeeded", gateway=provider.key,
                             gateway_reference=done.transaction_id, idempotency_key=key, amount=before.amount,
                             currency=before.currency, message=f"{reference} back to {before.amount}: the order "
                             "modification rolled back", raw=dict(done.raw))
    with app.app_context():
        app.extensions["vectis.db"].run(lambda session: session.add(row))


def _lower_after_commit(app, payment_id: int, amount: Money, key: str) -> None:
    """A partial void once the lower amount is committed (a failure leaves the surplus to the
    capture or the expiry sweep to release: nothing is taken twice)."""
    try:
        with app.app_context():
            def work(session: Session) -> None:
                payment = session.get(PaymentTransaction, payment_id)
                order = session.get(Order, payment.order_id)
                provider = gateway_for(session, order.channel_id, payment.gateway)
                done = provider.value.adjust_authorization(payment.gateway_reference, amount, key, provider.config)
                session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type="adjustment",
                                               state="succeeded", gateway=payment.gateway,
                                               gateway_reference=done.transaction_id, idempotency_key=key,
                                               amount=amount.amount, currency=amount.currency, actor=MODIFY.label,
                                               message=f"authorisation lowered to {amount.amount}"))

            app.extensions["vectis.db"].run(work)
    except Exception:  # logged; the order's amount is already right
        log.exception("lowering authorisation %s to %s failed", payment_id, amount)


def _reauthorize(session: Session, app, order: Any, payment: PaymentTransaction, amount: Money, key: str,
                 field: str) -> PaymentTransaction:
    """A new authorisation for ``amount`` (voided by its rollback hook if the modification rolls
    back); the one it replaces is voided after commit."""
    tender = session.exec(select(PaymentTender).where(PaymentTender.payment_transaction_id == payment.id)).first()
    token, saved = _card_of(session, order, payment, tender)
    if not token and saved is None:
        raise BusinessError(PaymentErrorCode.MISSING_PAYMENT, f"{field}: this card cannot be authorised again (no saved "
                            "card and no token kept); modify by staff with a saved card, or cancel and order again",
                            field=field)
    channel = session.get(Channel, order.channel_id)
    token_ref = {"saved_payment_method_id": saved} if saved is not None else {"cart_id": order.cart_id}
    card = authorize_card(session, channel=channel, payer=order, idempotency_key=key, amount=amount, token=token,
                          saved_payment_method_id=saved, field=field, metadata={"order": order.number},
                          before_call=journal(session, channel_id=channel.id, amount=amount, reference=key,
                                              token_ref=token_ref))
    if card.result.status != "authorized":
        raise BusinessError(PaymentErrorCode.PAYMENT_DECLINED, f"{field}: the new authorisation was held for the "
                            "gateway's fraud review; the order is left as it was", field=field)
    row = record_card(session, order, MODIFY, card, move_order=False)
    replaced = payment.id
    after_commit(session, lambda: void_replaced(app, replaced))
    return row


def _card_of(session: Session, order: Any, payment: PaymentTransaction, tender: Any) -> tuple[str | None, int | None]:
    """The card to authorise again: the saved card, else the token the buyer gave for this leg."""
    if payment.saved_payment_method_id is not None:
        return None, payment.saved_payment_method_id
    if order.cart_id is None:
        return None, None
    if tender is not None and tender.source == "buyer_prepended":
        given = session.exec(select(CartTender).where(CartTender.cart_id == order.cart_id,
                                                      CartTender.position == tender.position)).first()
        if given is not None and given.details.get("token"):
            return given.details["token"], None
    cart = session.get(Cart, order.cart_id)
    return ((cart.payment or {}).get("token") if cart is not None else None), None


def void_replaced(app, payment_id: int) -> str | None:
    """Void an authorisation a modification replaced, in its own transaction, keyed by it: run
    twice, it voids once. A failure leaves it ``authorized`` for the expiry sweep to void."""
    def work(session: Session) -> str | None:
        payment = lock_row(session, PaymentTransaction, payment_id)
        if payment.state != "authorized":
            return None
        order = session.get(Order, payment.order_id)
        provider = gateway_for(session, order.channel_id, payment.gateway)
        key = f"{payment.idempotency_key}:modify-void"
        done = gateways.call(lambda: provider.value.void(payment.gateway_reference, key, provider.config),
                             field="paymentId")
        apply(session, payment, "void", MODIFY)
        session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type="void", state="succeeded",
                                       gateway=payment.gateway, gateway_reference=done.transaction_id,
                                       idempotency_key=key, amount=payment.amount - payment.captured_amount,
                                       currency=payment.currency, actor=MODIFY.label,
                                       message=f"replaced by a new authorisation when order {order.number} was modified"))
        return done.transaction_id

    try:
        with app.app_context():
            return app.extensions["vectis.db"].run(work)
    except Exception:
        log.exception("voiding replaced authorisation %s failed; the expiry sweep voids it", payment_id)
        return None
