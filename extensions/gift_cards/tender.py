"""The ``gift_card`` tender type: a code the buyer gives (``setCartTenders``), found by its keyed
digest; at checkout a hold on the card's balance under the ledger's row lock, so concurrent
redemptions never take a card below zero."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from runtime.packs.api import Authorized, BusinessError, Money, TenderCall, TenderErrorCode, TenderLeg, leg_key, stored_value

from .codes import hint

KIND = "gift_card"
GATEWAY = "gift_cards.tender_type.gift_card"


def find_card(session, code: str, field: str, *, currency: str | None = None, now=None):
    """The active, unexpired card of ``code``, or the refusal naming ``field``."""
    card = stored_value.find_by_hash(session, stored_value.code_digest(code)) if code else None
    if card is None or card.kind != KIND or not card.is_active:
        raise BusinessError(TenderErrorCode.UNKNOWN_GIFT_CARD, f"{field}: no gift card with this code", field=field)
    _check_card(card, field, currency, now)
    return card


def _check_card(card, field: str, currency: str | None, now) -> None:
    if card.expires_at is not None and now is not None and card.expires_at <= now:
        raise BusinessError(TenderErrorCode.GIFT_CARD_EXPIRED, f"{field}: the gift card ending {card.hint} expired on "
                            f"{card.expires_at.date().isoformat()}", field=field)
    if currency is not None and card.currency != currency:
        raise BusinessError(TenderErrorCode.CURRENCY_MISMATCH, f"{field}: the gift card is in {card.currency}, the cart "
                            f"in {currency}", field=field)


class GiftCardTender:
    def __init__(self, clock):
        self._now = clock

    def prepare(self, session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        code = str(value.get("code") or "").strip()
        if not code:
            raise BusinessError(TenderErrorCode.INVALID_TENDER, f"{field}.code: a gift card tender needs the card's code",
                                field=f"{field}.code")
        card = find_card(session, code, f"{field}.code", currency=cart.currency, now=self._now())
        return {"stored_value_account_id": card.id, "hint": hint(code)}

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        locked = self._locked(call, details)
        card = locked.account if locked is not None else None
        if card is None or card.expires_at is not None and card.expires_at <= self._now():
            return Decimal(0)
        return locked.available

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        locked = self._locked(call, leg.details)
        card = locked.account if locked is not None else None
        if card is None or not card.is_active or card.kind != KIND:
            raise BusinessError(TenderErrorCode.UNKNOWN_GIFT_CARD, f"{leg.field}.code: no gift card with this code",
                                field=f"{leg.field}.code")
        _check_card(card, f"{leg.field}.code", call.currency, self._now())
        key = leg_key(call, leg)
        try:
            entry = locked.hold(call.session, leg.amount.amount, f"{key}:{'debit' if call.capture else 'hold'}",
                                spend=call.capture, note=call.reference, actor=call.actor.label)
        except stored_value.InsufficientBalance as exc:
            available = Money(exc.available, card.currency).amount
            raise BusinessError(TenderErrorCode.INSUFFICIENT_GIFT_CARD_BALANCE,
                                f"{leg.field}.amount: the gift card ending {card.hint} has {available} "
                                f"{card.currency}, not {leg.amount.amount}", field=f"{leg.field}.amount",
                                available=format(available, "f")) from None
        return Authorized(status="captured" if call.capture else "authorized", gateway=GATEWAY, key=key,
                          reference=str(entry.id), raw={"hint": card.hint}, links={"entries": [entry]})

    def link(self, session, order: Any, authorized: Authorized) -> None:
        stored_value.link_order(session, authorized.links["entries"], order.id)

    def capture(self, session, order: Any, payment: Any, amount: Money, key: str) -> str:
        """Redeem the held amount (a debit); a partial capture holds the rest again."""
        debit, again = stored_value.capture_hold(session, int(payment.gateway_reference), amount.amount, key,
                                                 order_id=order.id)
        if again is not None:
            payment.gateway_reference = str(again.id)
        return str(debit.id)

    def adjust(self, session, order: Any, payment: Any, amount: Money, key: str, field: str) -> str:
        """Hold ``amount`` on the card instead (an order modified); returns the new hold's id."""
        try:
            entry = stored_value.rehold(session, int(payment.gateway_reference), amount.amount, key, order_id=order.id)
        except stored_value.InsufficientBalance as exc:
            available = Money(exc.available, amount.currency).amount
            raise BusinessError(TenderErrorCode.INSUFFICIENT_GIFT_CARD_BALANCE,
                                f"{field}.amount: the gift card has {available} {amount.currency}, not {amount.amount}",
                                field=f"{field}.amount", available=format(available, "f")) from None
        return str(entry.id)

    def undo(self, session, order: Any, payment: Any, undo) -> str | None:
        entry = stored_value.undo_hold(session, int(payment.gateway_reference), undo.kind, undo.amount.amount, undo.key,
                                       order_id=order.id)
        return str(entry.id)

    def _locked(self, call: TenderCall, details: dict[str, Any]):
        """The card, locked and read once per checkout (None: no card named)."""
        account_id = (details or {}).get("stored_value_account_id")
        if account_id is None:
            return None
        return stored_value.locked_for(call.session, call.memo, (KIND, int(account_id)), int(account_id))
