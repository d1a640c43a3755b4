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


#: Most digits before the decimal point of an amount or decimal a client sends. Amount columns
#: are ``NUMERIC(19, 4)`` on PostgreSQL and ten-thousandths in a 64-bit integer on SQLite
#: (at most 922,337,203,685,477.5807), so 14 digits fit both.
MAX_INTEGER_DIGITS = 14
#: Most decimals any amount column keeps (``MoneyAmount.SCALE``).
MAX_PLACES = 4
#: Longest decimal text accepted (sign, 14 digits, point, decimals and spaces fit easily).
MAX_DECIMAL_TEXT = 64


class CurrencyMismatch(ValueError):
    """Arithmetic or comparison between amounts of two currencies."""


class AmountError(ValueError):
    """A client's decimal that no amount column holds; ``reason`` says which rule it broke:
    ``not_a_number``, ``not_finite``, ``too_large`` or ``too_precise``."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def parse_decimal(value: object, field: str, *, places: int = MAX_PLACES,
                  integer_digits: int = MAX_INTEGER_DIGITS) -> Decimal:
    """The runtime's one parser of client decimals (amounts, prices, filters): ``value`` (a
    Decimal, int or decimal string) as a finite Decimal with at most ``integer_digits`` digits
    before the point and ``places`` after it (trailing zeros do not count), else
    :class:`AmountError` whose message starts with ``field``. ``"1e9999"``, ``"1e-400"``, a
    40-digit number, ``"NaN"`` and ``"Infinity"`` are all refused before any arithmetic."""
    if isinstance(value, str) and len(value) > MAX_DECIMAL_TEXT:
        raise AmountError(f"{field}: {len(value)} characters is not an amount (at most {MAX_DECIMAL_TEXT})", "too_large")
    try:
        number = _to_decimal(value, field)
    except TypeError as exc:
        raise AmountError(str(exc), "not_a_number") from None
    except ValueError as exc:
        raise AmountError(str(exc), "not_finite" if "finite" in str(exc) else "not_a_number") from None
    if number and number.adjusted() >= integer_digits:
        raise AmountError(f"{field}: {value!r} has more than {integer_digits} digits before the decimal point",
                          "too_large")
    _sign, digits, exponent = number.as_tuple()
    if number and exponent + min(_trailing_zeros(digits), max(0, -exponent)) < -places:
        raise AmountError(f"{field}: {value!r} has more than {places} decimal places", "too_precise")
    return number


def _trailing_zeros(digits: tuple[int, ...]) -> int:
    count = 0
    for digit in reversed(digits):
        if digit:
            break
        count += 1
    return count


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
        try:
            object.__setattr__(self, "amount", amount.quantize(exponent, rounding=ROUND_HALF_UP))
        except InvalidOperation:  # more digits than a context holds: no column could keep it either
            raise ValueError(f"amount: {amount} is too large for an amount of money") from None

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
