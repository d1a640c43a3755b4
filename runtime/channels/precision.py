"""A saved price has no more decimals than its currency has minor units (``Money``'s rule).

Pricing code calls :func:`require_precision` on every amount it stores: ``12.345 EUR`` is refused
rather than silently rounded, so what the merchant typed is what the customer pays.
"""
from __future__ import annotations

from decimal import Decimal

from runtime.channels.errors import ChannelErrorCode
from runtime.errors import BusinessError
from runtime.money import Money, minor_units


def require_precision(amount: Decimal | int | str, currency: str, field: str) -> Money:
    """``amount`` as :class:`Money`, or a :class:`BusinessError` naming ``field``.

    Trailing zeros do not count (``10.500 EUR`` is ``10.50 EUR``); a float is refused.
    """
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
