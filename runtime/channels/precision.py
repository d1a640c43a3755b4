"""A saved price has no more decimals than its currency has minor units (``Money``'s rule).

Pricing code calls :func:`require_precision` on every amount it stores: ``12.345 EUR`` is refused
rather than silently rounded, so what the merchant typed is what the customer pays.
"""
from __future__ import annotations

from decimal import Decimal

from runtime.channels.errors import ChannelErrorCode
from runtime.errors import BusinessError
from runtime.money import AmountError, Money, minor_units, parse_decimal


def require_precision(amount: Decimal | int | str, currency: str, field: str) -> Money:
    """``amount`` as :class:`Money`, or a :class:`BusinessError` naming ``field``.

    Trailing zeros do not count (``10.500 EUR`` is ``10.50 EUR``); a float is refused.
    """
    try:
        if not isinstance(amount, (bool, float)):  # a float gets Money's own message below
            parse_decimal(amount, field)
    except AmountError as exc:
        if exc.reason == "too_large":  # the other reasons get the messages below, as before
            raise BusinessError(ChannelErrorCode.INVALID_AMOUNT, str(exc), field=field) from None
    try:
        money = Money(amount, currency)
    except (TypeError, ValueError) as exc:
        code = ChannelErrorCode.INVALID_CURRENCY if str(exc).startswith("currency") else ChannelErrorCode.INVALID_AMOUNT
        raise BusinessError(code, f"{field}: {exc}", field=field) from None
    exact = amount if isinstance(amount, Decimal) else Decimal(amount.strip() if isinstance(amount, str) else amount)
    if money.amount != exact:
        places = minor_units(currency)
        raise BusinessError(
            ChannelErrorCode.TOO_MANY_DECIMALS,
            f"{field}: {amount} has more decimals than {currency} allows ({places})",
            field=field,
        )
    return money
