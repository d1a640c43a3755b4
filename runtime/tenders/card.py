"""The ``card`` tender type: a gateway token or a saved card, authorised at the channel's gateway
(:func:`runtime.payments.checkout.authorize_card`), its intent journaled before the call."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from runtime.channels.models import Channel
from runtime.payments import gateway as gateways
from runtime.payments.checkout import authorize_card
from runtime.payments.gateway import gateway_for
from runtime.payments.methods import validate_payment_method
from runtime.tenders.intents import journal
from runtime.tenders.types import Authorized, TenderCall, TenderLeg, Undo


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

    def undo(self, session: Session, order: Any, payment: Any, undo: Undo) -> str | None:
        provider = gateway_for(session, order.channel_id, payment.gateway)
        if undo.kind == "void":
            result = gateways.call(lambda: provider.value.void(payment.gateway_reference, undo.key, provider.config),
                                   field="paymentId")
        else:
            result = gateways.call(lambda: provider.value.refund(payment.gateway_reference, undo.amount, undo.key,
                                                                 provider.config), field="paymentId")
        return result.transaction_id
