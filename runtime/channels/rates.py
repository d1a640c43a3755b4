"""Exchange rates: ``1 base = rate quote`` from ``valid_from`` on; the latest valid rate wins.

Conversion multiplies the exact amount by the rate (no intermediate rounding) and rounds once,
half up, to the target currency's minor units: ``Money``'s own rule, so ``10.00 USD`` at
``151.235`` is ``1512 JPY`` (1512.35), at ``0.30759`` it is ``3.076 KWD`` (3.0759).
Only the direct pair is used: a ``USD → EUR`` rate does not convert ``EUR → USD``.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation, localcontext

from sqlmodel import Session, select

from runtime.channels.errors import ChannelErrorCode as Code
from runtime.channels.models import ExchangeRate
from runtime.channels.service import currency_problem
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money

#: Decimals a rate may have (the column's scale), and its largest value.
RATE_PLACES = 12
RATE_MAX = Decimal(10) ** 16


def parse_rate(value: Decimal | int | str, field: str = "rate") -> Decimal:
    """A positive, finite rate with at most :data:`RATE_PLACES` decimals, or ``INVALID_RATE``."""
    try:
        if isinstance(value, (bool, float)) or not isinstance(value, (Decimal, int, str)):
            raise InvalidOperation
        rate = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise BusinessError(Code.INVALID_RATE, f"{field}: {value!r} is not a decimal number", field=field) from None
    if not rate.is_finite() or rate <= 0 or rate >= RATE_MAX:
        raise BusinessError(Code.INVALID_RATE, f"{field}: expected a positive number below {RATE_MAX:,}, got {value}",
                            field=field)
    if rate.normalize().as_tuple().exponent < -RATE_PLACES:
        raise BusinessError(Code.INVALID_RATE, f"{field}: {value} has more than {RATE_PLACES} decimals", field=field)
    return rate.normalize()  # 151.2350 and 151.235 are one rate


def set_rate(session: Session, base: str, quote: str, rate: Decimal | int | str,
             valid_from: datetime | None = None) -> ExchangeRate:
    """Record a rate from ``valid_from`` (default now); a rate for the same instant is replaced."""
    problems = [p for p in (currency_problem(base, "base"), currency_problem(quote, "quote")) if p]
    if not problems and base == quote:
        problems.append(BusinessError(Code.SAME_CURRENCY, f"quote: a rate converts between two currencies, got {base} twice",
                                      field="quote"))
    try:
        exact = parse_rate(rate)
    except BusinessError as exc:
        problems.append(exc)
    if valid_from is not None and valid_from.tzinfo is None:
        problems.append(BusinessError(Code.INVALID_DATE, "validFrom: expected a time with a zone, like 2026-01-15T12:00:00Z",
                                      field="validFrom"))
    if problems:
        raise BusinessErrors(problems)
    valid_from = valid_from or utcnow()
    row = session.exec(select(ExchangeRate).where(
        ExchangeRate.base == base, ExchangeRate.quote == quote, ExchangeRate.valid_from == valid_from)).first()
    row = row or ExchangeRate(base=base, quote=quote, valid_from=valid_from)
    row.rate = exact
    session.add(row)
    session.flush()
    return row


def rate_at(session: Session, base: str, quote: str, at: datetime | None = None) -> ExchangeRate | None:
    """The rate for ``base → quote`` valid at ``at`` (default now): the latest one not in the future."""
    return session.exec(
        select(ExchangeRate)
        .where(ExchangeRate.base == base, ExchangeRate.quote == quote, ExchangeRate.valid_from <= (at or utcnow()))
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
    ).first()


def apply_rate(money: Money, rate: Decimal, to: str) -> Money:
    """``money × rate`` in ``to``, rounded once, half up, to ``to``'s minor units."""
    with localcontext() as context:
        context.prec = 80  # the product is exact; only Money's quantize rounds
        return Money(money.amount * rate, to)


def convert(session: Session, money: Money, to: str, at: datetime | None = None) -> Money:
    """``money`` in currency ``to`` at the rate valid at ``at`` (default now), or ``NO_EXCHANGE_RATE``."""
    if money.currency == to:
        return money
    problem = currency_problem(to, "currency")
    if problem:
        raise problem
    at = at or utcnow()
    row = rate_at(session, money.currency, to, at)
    if row is None:
        raise BusinessError(Code.NO_EXCHANGE_RATE,
                            f"currency: no exchange rate from {money.currency} to {to} valid at {at.isoformat()}",
                            field="currency")
    return apply_rate(money, row.rate, to)
