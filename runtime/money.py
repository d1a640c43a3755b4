"""The one money type of the runtime: an exact amount in one currency.

``Money(Decimal("12.5"), "EUR")`` is ``12.50 EUR``: the amount is quantized to the currency's
minor units (ISO 4217) with ``ROUND_HALF_UP`` when the value is made, so two equal sums are equal
values. Floats are refused (they cannot hold ``0.10`` exactly), as is arithmetic between
currencies. Split an amount with :meth:`Money.allocate`, never by dividing.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: Minor units of the currencies that do not use two decimals (ISO 4217). Every other code has 2.
MINOR_UNITS: dict[str, int] = {
    # no minor unit
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # thousandths
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals (units of account)
    "CLF": 4, "UYW": 4,
}

#: Minor units of a currency absent from :data:`MINOR_UNITS`.
DEFAULT_MINOR_UNITS = 2

_CODE = re.compile(r"^[A-Z]{3}$")
#: Currency code → the quantum of its minor unit, for the codes seen so far.
_EXPONENTS: dict[str, Decimal] = {}


class CurrencyMismatch(ValueError):
    """Arithmetic or comparison between amounts of two currencies."""


def minor_units(currency: str) -> int:
    """Decimals of ``currency`` (``2`` for EUR, ``0`` for JPY, ``3`` for KWD)."""
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS)


def _to_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{field}: expected a Decimal, int or decimal string, got {type(value).__name__} {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{field}: {value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{field}: expected a Decimal, int or decimal string, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        # Made for every price of every listed variant: the checked currencies' exponents are kept.
        exponent = _EXPONENTS.get(self.currency) if isinstance(self.currency, str) else None
        if exponent is None:
            if not isinstance(self.currency, str) or not _CODE.match(self.currency):
                raise ValueError(f"currency: expected a three-letter ISO 4217 code like 'EUR', got {self.currency!r}")
            exponent = _EXPONENTS[self.currency] = Decimal(1).scaleb(-minor_units(self.currency))
        amount = self.amount
        if type(amount) is not Decimal or not amount.is_finite():
            amount = _to_decimal(amount, "amount")
        object.__setattr__(self, "amount", amount.quantize(exponent, rounding=ROUND_HALF_UP))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def _same(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot {operation} {self.currency} and {other.currency} ({self} and {other})")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other, "subtract").amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, (int, Decimal)):
            raise TypeError(f"factor: Money multiplies by an int or a Decimal, got {type(factor).__name__}")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def allocate(self, ratios: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` that add up exactly to this amount.

        Minor units left over by rounding down go one each to the parts that lost the most to
        rounding, the first part first on a tie (``Money("10.00", "EUR").allocate([1, 1, 1])`` is ``3.34, 3.33, 3.33``).
        """
        if not ratios or any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in ratios):
            raise ValueError(f"ratios: expected non-negative ints, got {list(ratios)!r}")
        total = sum(ratios)
        if total == 0:
            raise ValueError("ratios: at least one ratio must be positive")
        places = minor_units(self.currency)
        units = int(self.amount.scaleb(places))
        sign = -1 if units < 0 else 1
        shares = [abs(units) * r // total for r in ratios]
        by_remainder = sorted(range(len(ratios)), key=lambda i: (-(abs(units) * ratios[i] % total), i))
        for index in by_remainder[: abs(units) - sum(shares)]:
            shares[index] += 1
        return [Money(Decimal(sign * share).scaleb(-places), self.currency) for share in shares]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def zero(currency: str) -> Money:
    """``0.00`` in ``currency``."""
    return Money.zero(currency)
