"""Money: exact amounts in one currency."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.money import CurrencyMismatch, Money, minor_units, zero

CURRENCIES = st.sampled_from(["EUR", "USD", "JPY", "KWD", "CLF"])


@st.composite
def money(draw, currency=None):
    code = currency or draw(CURRENCIES)
    units = draw(st.integers(min_value=-(10**12), max_value=10**12))
    return Money(Decimal(units).scaleb(-minor_units(code)), code)


def test_amounts_are_quantized_half_up_to_the_currency_precision():
    assert Money(Decimal("12.5"), "EUR").amount == Decimal("12.50")
    assert Money(Decimal("0.125"), "EUR").amount == Decimal("0.13")
    assert Money(Decimal("-0.125"), "EUR").amount == Decimal("-0.13")
    assert Money(Decimal("199.5"), "JPY").amount == Decimal("200")
    assert Money(Decimal("1.2345"), "KWD").amount == Decimal("1.235")
    assert Money(7, "USD").amount == Decimal("7.00")
    assert Money("4.90", "EUR").amount == Decimal("4.90")


def test_minor_units_follow_iso_4217():
    assert [minor_units(c) for c in ("EUR", "USD", "JPY", "KRW", "BHD", "KWD", "XYZ")] == [2, 2, 0, 0, 3, 3, 2]


def test_str_shows_amount_and_currency():
    assert str(Money(Decimal("12.5"), "EUR")) == "12.50 EUR"
    assert str(Money(Decimal("1500"), "JPY")) == "1500 JPY"
    assert str(zero("KWD")) == "0.000 KWD"


def test_floats_are_refused_naming_the_field():
    with pytest.raises(TypeError, match=r"^amount: expected a Decimal, int or decimal string, got float 0.1$"):
        Money(0.1, "EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (Decimal("1"), "eur", "currency: expected a three-letter ISO 4217 code like 'EUR', got 'eur'"),
        (Decimal("1"), "EURO", "currency: expected a three-letter ISO 4217 code like 'EUR', got 'EURO'"),
        ("ten", "EUR", "amount: 'ten' is not a decimal number"),
        (Decimal("NaN"), "EUR", "amount: Decimal('NaN') is not a finite number"),
    ],
)
def test_bad_values_are_refused_naming_the_field(amount, currency, message):
    with pytest.raises(ValueError) as raised:
        Money(amount, currency)
    assert str(raised.value) == message


def test_booleans_are_not_amounts():
    with pytest.raises(TypeError, match="^amount: "):
        Money(True, "EUR")


def test_arithmetic_and_comparison():
    a, b = Money(Decimal("10.00"), "EUR"), Money(Decimal("2.55"), "EUR")
    assert a + b == Money(Decimal("12.55"), "EUR")
    assert a - b == Money(Decimal("7.45"), "EUR")
    assert b * 3 == Money(Decimal("7.65"), "EUR")
    assert 3 * b == b * 3
    assert b * Decimal("0.5") == Money(Decimal("1.28"), "EUR")
    assert -b == Money(Decimal("-2.55"), "EUR")
    assert b < a and b <= a and a > b and a >= b and not a < a
    assert zero("EUR").is_zero and not a.is_zero
    assert Money(Decimal("1"), "EUR") != Money(Decimal("1"), "USD")


def test_mixing_currencies_is_refused():
    eur, usd = Money(Decimal("1"), "EUR"), Money(Decimal("1"), "USD")
    with pytest.raises(CurrencyMismatch, match=r"^cannot add EUR and USD \(1.00 EUR and 1.00 USD\)$"):
        eur + usd
    with pytest.raises(CurrencyMismatch, match="^cannot subtract EUR and USD"):
        eur - usd
    with pytest.raises(CurrencyMismatch, match="^cannot compare EUR and USD"):
        eur < usd


def test_multiplying_by_a_float_or_money_is_refused():
    price = Money(Decimal("1"), "EUR")
    with pytest.raises(TypeError, match="^factor: Money multiplies by an int or a Decimal, got float$"):
        price * 1.5
    with pytest.raises(TypeError, match="^factor: "):
        price * price
    with pytest.raises(TypeError, match="^cannot add Money and int$"):
        price + 1


def test_money_is_frozen_and_hashable():
    price = Money(Decimal("1.5"), "EUR")
    with pytest.raises(AttributeError):
        price.amount = Decimal("2")
    assert {price, Money(Decimal("1.50"), "EUR")} == {price}


def test_allocate_splits_exactly_giving_leftover_cents_first():
    assert Money(Decimal("10"), "EUR").allocate([1, 1, 1]) == [
        Money(Decimal("3.34"), "EUR"), Money(Decimal("3.33"), "EUR"), Money(Decimal("3.33"), "EUR")
    ]
    assert Money(Decimal("0.05"), "EUR").allocate([3, 7]) == [Money(Decimal("0.02"), "EUR"), Money(Decimal("0.03"), "EUR")]
    assert Money(Decimal("100"), "JPY").allocate([1, 0, 2]) == [
        Money(Decimal("33"), "JPY"), Money(Decimal("0"), "JPY"), Money(Decimal("67"), "JPY")
    ]


@pytest.mark.parametrize(("ratios", "message"), [([], "ratios: expected non-negative ints, got []"),
                                                 ([1, -1], "ratios: expected non-negative ints, got [1, -1]"),
                                                 ([0, 0], "ratios: at least one ratio must be positive")])
def test_allocate_refuses_bad_ratios(ratios, message):
    with pytest.raises(ValueError) as raised:
        Money(Decimal("1"), "EUR").allocate(ratios)
    assert str(raised.value) == message


@given(st.data())
def test_adding_then_subtracting_gives_back_the_amount(data):
    a = data.draw(money())
    b = data.draw(money(a.currency))
    assert a + b - b == a
    assert a + b == b + a


@given(st.data())
def test_addition_is_associative(data):
    a = data.draw(money())
    b, c = data.draw(money(a.currency)), data.draw(money(a.currency))
    assert (a + b) + c == a + (b + c)


@given(money(), st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=8).filter(any))
def test_allocation_adds_up_and_stays_within_one_minor_unit_of_the_ratio(total, ratios):
    parts = total.allocate(ratios)
    assert len(parts) == len(ratios)
    assert sum((p.amount for p in parts), Decimal(0)) == total.amount
    unit = Decimal(1).scaleb(-minor_units(total.currency))
    for part, ratio in zip(parts, ratios):
        assert part.currency == total.currency
        assert abs(part.amount - total.amount * ratio / sum(ratios)) < unit
        if ratio == 0:
            assert part.is_zero


@given(money(), st.integers(min_value=-1000, max_value=1000))
def test_multiplying_by_an_int_is_repeated_addition(price, n):
    assert price * n == Money(price.amount * n, price.currency)
    assert (price * n).amount.as_tuple().exponent == -minor_units(price.currency)
