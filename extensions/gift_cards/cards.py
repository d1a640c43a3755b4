"""Issuing and redeeming gift cards on the core stored-value ledger.

Codes are returned once, when generated; the ledger keeps a keyed digest and the last four
characters. Nothing here logs a code.
"""
from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from runtime.packs.api import BusinessError, Money, TenderErrorCode, minor_units, stored_value, utcnow

from .codes import hint, new_code
from .tender import KIND, find_card

log = logging.getLogger("vectis.packs.gift_cards")

#: Cards one ``generateGiftCards`` call issues at most.
MAX_BATCH = 1000
FORMS = ("virtual", "physical")


def parse_amount(value: Any, currency: str, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount >= Decimal(10) ** 9 \
            or -amount.as_tuple().exponent > minor_units(currency):
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"{field}: expected a positive decimal in {currency}'s "
                            f"precision like \"25.00\", got {value!r}", field=field)
    return amount


def generate(session, actor_label: str, *, count: Any, amount: Any, currency: Any, form: str = "virtual",
             expires_at: datetime | None = None, batch: str = "") -> list[tuple[str, Any]]:
    """``count`` new cards of ``amount`` each: ``[(code, account)]``; the codes exist only in this answer."""
    currency = str(currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BusinessError(TenderErrorCode.INVALID_AMOUNT, f"input.currency: expected an ISO code like EUR, got "
                            f"{currency!r}", field="input.currency")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BATCH:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"input.count: expected 1 to {MAX_BATCH}, got {count!r}",
                            field="input.count")
    value = parse_amount(amount, currency, "input.amount")
    if form not in FORMS:
        raise BusinessError(TenderErrorCode.INVALID_TENDER, f"input.form: expected one of {', '.join(FORMS)}, got "
                            f"{form!r}", field="input.form")
    if expires_at is not None and expires_at <= utcnow():
        raise BusinessError(TenderErrorCode.INVALID_TENDER, "input.expiresAt: must be in the future",
                            field="input.expiresAt")
    issued = []
    for _ in range(count):
        code = new_code()
        card = stored_value.open_account(session, KIND, currency, lookup_hash=stored_value.code_digest(code),
                                         hint=hint(code), expires_at=expires_at,
                                         attributes={"form": form, "batch": batch[:64]})
        stored_value.credit(session, card, value, f"gift-card:{card.id}:issue", note="issued", actor=actor_label)
        issued.append((code, card))
    log.info("issued %d %s gift cards of %s %s (batch %r)", count, form, value, currency, batch)
    return issued


def redeem(session, code: str, amount: Any, key: str, *, actor_label: str = "system") -> Decimal:
    """Spend ``amount`` of the card now (a debit); returns the balance left.
    Refuses below zero: the card's row is locked while the balance is read."""
    card = find_card(session, code, "code", now=utcnow())
    value = parse_amount(amount, card.currency, "amount")
    try:
        stored_value.hold(session, card, value, f"{key}:debit", spend=True, actor=actor_label)
    except stored_value.InsufficientBalance as exc:
        available = Money(exc.available, card.currency).amount
        raise BusinessError(TenderErrorCode.INSUFFICIENT_GIFT_CARD_BALANCE,
                            f"amount: the gift card ending {card.hint} has {available} {card.currency}, not {value}",
                            field="amount", available=format(available, "f")) from None
    return stored_value.balance(session, card.id)


def balance_of(session, code: str) -> dict[str, Any] | None:
    """The card's balance, expiry and hint, or None for an unknown code (an expired card answers)."""
    card = stored_value.find_by_hash(session, stored_value.code_digest(code)) if code else None
    if card is None or card.kind != KIND:
        return None
    return {"balance": Money(stored_value.balance(session, card.id), card.currency), "expires_at": card.expires_at,
            "hint": card.hint, "form": card.attributes.get("form", "virtual"), "is_active": card.is_active}
