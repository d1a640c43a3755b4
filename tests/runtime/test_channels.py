"""Channels, exchange rates and price precision, through the service API on both backends."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from runtime.channels import rates, service
from runtime.channels.context import resolve_channel
from runtime.channels.errors import ChannelNotFound
from runtime.channels.models import Channel, ExchangeRate
from runtime.channels.precision import require_precision
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money

WEB = {"slug": "web", "name": "Web store", "commerce_mode": "B2C", "default_currency": "EUR"}


def codes(exc_info) -> list[tuple[str, str]]:
    errors = getattr(exc_info.value, "errors", [exc_info.value])
    return [(e.code, e.field) for e in errors]


def channel_count(database) -> int:
    with database.session() as session:
        return len(session.exec(select(Channel)).all())


# --- channels ---------------------------------------------------------------------------------

def test_a_channel_is_created_with_its_defaults(database):
    channel = database.run(lambda s: service.create_channel(s, **WEB))
    assert (channel.slug, channel.commerce_mode, channel.currencies, channel.capture_mode) == (
        "web", "B2C", ["EUR"], "AUTHORIZE_AND_CAPTURE")
    assert channel.is_active and not channel.is_default
    assert channel.created_at == channel.updated_at


@pytest.mark.parametrize("slug", ["Web", "web store", "-web", "web-", "web--eu", "", "w" * 65, "wéb"])
def test_a_bad_slug_is_refused(database, slug):
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_channel(s, **{**WEB, "slug": slug}))
    assert codes(exc) == [("INVALID_SLUG", "slug")]
    assert str(exc.value).startswith(f"slug: {slug!r} is not a slug")
    assert channel_count(database) == 0


def test_a_duplicate_slug_is_refused_and_changes_nothing(database):
    database.run(lambda s: service.create_channel(s, **WEB))
    with pytest.raises(BusinessError) as exc:
        database.run(lambda s: service.create_channel(s, **{**WEB, "name": "Other"}))
    assert codes(exc) == [("DUPLICATE_SLUG", "slug")]
    assert exc.value.message == "slug: a channel 'web' already exists"
    assert channel_count(database) == 1


def test_every_problem_is_reported_at_once(database):
    bad = {"slug": "Bad Slug", "name": " ", "commerce_mode": "RETAIL", "default_currency": "eur",
           "currencies": ["USD", "dollars"], "capture_mode": "LATER", "is_active": False, "is_default": True}
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_channel(s, **bad))
    assert codes(exc) == [
        ("INVALID_SLUG", "slug"), ("INVALID_NAME", "name"), ("INVALID_COMMERCE_MODE", "commerceMode"),
        ("INVALID_CAPTURE_MODE", "captureMode"), ("INVALID_CURRENCY", "defaultCurrency"),
        ("INVALID_CURRENCY", "currencies.1"), ("DEFAULT_CHANNEL_INACTIVE", "isActive"),
    ]
    assert exc.value.errors[2].message == "commerceMode: expected one of B2B, B2C, HYBRID, got 'RETAIL'"
    assert exc.value.errors[5].message == "currencies.1: expected a three-letter ISO 4217 code like 'EUR', got 'dollars'"
    assert channel_count(database) == 0


def test_the_default_currency_must_be_supported(database):
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_channel(s, **WEB, currencies=["USD", "GBP"]))
    assert codes(exc) == [("UNSUPPORTED_CURRENCY", "defaultCurrency")]
    assert exc.value.errors[0].message == "defaultCurrency: EUR is not among the supported currencies (USD, GBP)"


def test_an_empty_currency_list_is_refused(database):
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.create_channel(s, **WEB, currencies=[]))
    assert codes(exc) == [("INVALID_CURRENCY", "currencies")]


def test_repeated_currencies_are_kept_once_in_order(database):
    channel = database.run(lambda s: service.create_channel(s, **WEB, currencies=["USD", "EUR", "USD"]))
    assert channel.currencies == ["USD", "EUR"]


def test_a_currency_outside_the_channel_is_unsupported(database):
    channel = database.run(lambda s: service.create_channel(s, **WEB, currencies=["EUR", "USD"]))
    service.require_currency(channel, "USD")
    with pytest.raises(BusinessError) as exc:
        service.require_currency(channel, "CHF", field="input.currency")
    assert codes(exc) == [("UNSUPPORTED_CURRENCY", "input.currency")]
    assert exc.value.message == "input.currency: channel 'web' does not sell in CHF (supported: EUR, USD)"


def test_update_validates_the_result_whole_and_a_refusal_changes_nothing(database, frozen_clock):
    database.run(lambda s: service.create_channel(s, **WEB, currencies=["EUR", "USD"]))
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.update_channel(s, "web", currencies=["USD"], name="Renamed"))
    assert codes(exc) == [("UNSUPPORTED_CURRENCY", "defaultCurrency")]
    with database.session() as session:
        unchanged = service.get_channel(session, "web")
    assert (unchanged.name, unchanged.currencies) == ("Web store", ["EUR", "USD"])
    frozen_clock.advance(minutes=5)
    updated = database.run(lambda s: service.update_channel(s, "web", default_currency="USD", currencies=["USD"],
                                                           capture_mode="AUTHORIZE"))
    assert (updated.default_currency, updated.currencies, updated.capture_mode) == ("USD", ["USD"], "AUTHORIZE")
    assert updated.updated_at - updated.created_at == timedelta(minutes=5)


def test_updating_an_unknown_channel_is_not_found(database):
    with pytest.raises(BusinessError) as exc:
        database.run(lambda s: service.update_channel(s, "nope", name="x"))
    assert codes(exc) == [("NOT_FOUND", "slug")]


def test_one_default_channel_at_a_time(database):
    database.run(lambda s: service.create_channel(s, **WEB, is_default=True))
    database.run(lambda s: service.create_channel(s, **{**WEB, "slug": "b2b"}, is_default=True))
    with database.session() as session:
        assert [c.slug for c in session.exec(select(Channel).where(Channel.is_default))] == ["b2b"]
        assert resolve_channel(session, None).slug == "b2b"
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: service.update_channel(s, "b2b", is_active=False))
    assert codes(exc) == [("DEFAULT_CHANNEL_INACTIVE", "isActive")]


def test_request_channel_resolution(database):
    with database.session() as session:
        assert resolve_channel(session, None) is None  # no default channel: none
    database.run(lambda s: service.create_channel(s, **WEB, is_default=True))
    database.run(lambda s: service.create_channel(s, **{**WEB, "slug": "b2b-eu", "commerce_mode": "B2B"}))
    database.run(lambda s: service.create_channel(s, **{**WEB, "slug": "closed", "is_active": False}))
    with database.session() as session:
        assert resolve_channel(session, "b2b-eu").slug == "b2b-eu"
        assert resolve_channel(session, "  ").slug == "web"
        with pytest.raises(ChannelNotFound) as exc:
            resolve_channel(session, "b2b-ue")
        assert str(exc.value) == "X-Channel-Slug: no active channel 'b2b-ue' (did you mean 'b2b-eu'?)"
        with pytest.raises(ChannelNotFound):
            resolve_channel(session, "closed")


# --- exchange rates ---------------------------------------------------------------------------

def test_the_latest_valid_rate_wins(database, frozen_clock):
    now = frozen_clock.now()
    database.run(lambda s: rates.set_rate(s, "USD", "EUR", "0.90", now - timedelta(days=2)))
    database.run(lambda s: rates.set_rate(s, "USD", "EUR", "0.92", now - timedelta(days=1)))
    database.run(lambda s: rates.set_rate(s, "USD", "EUR", "0.95", now + timedelta(days=1)))
    with database.session() as session:
        assert rates.rate_at(session, "USD", "EUR").rate == Decimal("0.92")
        assert rates.rate_at(session, "USD", "EUR", now - timedelta(days=1, seconds=1)).rate == Decimal("0.90")
        assert rates.rate_at(session, "USD", "EUR", now - timedelta(days=3)) is None
        assert rates.convert(session, Money("100", "USD"), "EUR") == Money("92.00", "EUR")
    frozen_clock.advance(days=1)
    with database.session() as session:
        assert rates.convert(session, Money("100", "USD"), "EUR") == Money("95.00", "EUR")


def test_a_rate_for_the_same_instant_is_replaced_and_stored_exactly(database, frozen_clock):
    database.run(lambda s: rates.set_rate(s, "EUR", "JPY", "161.5"))
    database.run(lambda s: rates.set_rate(s, "EUR", "JPY", "0.123456789012"))
    with database.session() as session:
        rows = session.exec(select(ExchangeRate)).all()
    assert [(r.base, r.quote, r.rate, r.valid_from) for r in rows] == [
        ("EUR", "JPY", Decimal("0.123456789012"), frozen_clock.now())]


@pytest.mark.parametrize(("amount", "source", "target", "rate", "expected"), [
    ("10.00", "USD", "JPY", "151.235", "1512"),     # 1512.35 -> 0 decimals
    ("10.00", "USD", "JPY", "151.25", "1513"),      # 1512.5: half up
    ("10.00", "USD", "KWD", "0.30759", "3.076"),    # 3.0759 -> 3 decimals
    ("10.00", "USD", "KWD", "0.30755", "3.076"),    # 3.0755: half up
    ("1000", "JPY", "USD", "0.0066445", "6.64"),    # 6.6445 -> 2 decimals
    ("1000", "JPY", "USD", "0.0066455", "6.65"),    # 6.6455: half up
    ("0.001", "KWD", "USD", "3.25", "0.00"),        # 0.00325 rounds to nothing
])
def test_conversion_rounds_once_half_up_to_the_target_minor_units(database, amount, source, target, rate, expected):
    database.run(lambda s: rates.set_rate(s, source, target, rate))
    with database.session() as session:
        converted = rates.convert(session, Money(amount, source), target)
    assert converted == Money(Decimal(expected), target)
    assert str(converted.amount) == expected


def test_conversion_without_a_rate_is_refused(database, frozen_clock):
    database.run(lambda s: rates.set_rate(s, "USD", "EUR", "0.92"))
    with database.session() as session:
        with pytest.raises(BusinessError) as exc:
            rates.convert(session, Money("5", "EUR"), "USD")  # only the direct pair converts
        assert codes(exc) == [("NO_EXCHANGE_RATE", "currency")]
        assert exc.value.message == "currency: no exchange rate from EUR to USD valid at 2026-01-15T12:00:00+00:00"
        assert rates.convert(session, Money("5", "EUR"), "EUR") == Money("5", "EUR")


@pytest.mark.parametrize(("rate", "message"), [
    ("0", "rate: expected a positive number below 10,000,000,000,000,000, got 0"),
    ("-1.5", "rate: expected a positive number below 10,000,000,000,000,000, got -1.5"),
    ("NaN", "rate: expected a positive number below 10,000,000,000,000,000, got NaN"),
    ("abc", "rate: 'abc' is not a decimal number"),
    (1.5, "rate: 1.5 is not a decimal number"),
    ("0.0000000000001", "rate: 0.0000000000001 has more than 12 decimals"),
])
def test_a_bad_rate_is_refused(database, rate, message):
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: rates.set_rate(s, "USD", "EUR", rate))
    assert codes(exc) == [("INVALID_RATE", "rate")]
    assert exc.value.errors[0].message == message
    with database.session() as session:
        assert session.exec(select(ExchangeRate)).all() == []


def test_bad_pairs_are_refused_together(database):
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: rates.set_rate(s, "usd", "EURO", "0"))
    assert codes(exc) == [("INVALID_CURRENCY", "base"), ("INVALID_CURRENCY", "quote"), ("INVALID_RATE", "rate")]
    with pytest.raises(BusinessErrors) as exc:
        database.run(lambda s: rates.set_rate(s, "USD", "USD", "1"))
    assert codes(exc) == [("SAME_CURRENCY", "quote")]


# --- price precision --------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("12.34", "EUR", "12.34"), (Decimal("10.500"), "EUR", "10.50"), (1500, "JPY", "1500"),
    ("1.234", "KWD", "1.234"), ("  7 ", "USD", "7.00"),
])
def test_a_price_within_its_currency_precision_is_money(amount, currency, expected):
    assert require_precision(amount, currency, "input.price") == Money(Decimal(expected), currency)


@pytest.mark.parametrize(("amount", "currency", "message"), [
    ("12.345", "EUR", "input.price: 12.345 has more decimals than EUR allows (2)"),
    ("1500.5", "JPY", "input.price: 1500.5 has more decimals than JPY allows (0)"),
    ("1.2345", "KWD", "input.price: 1.2345 has more decimals than KWD allows (3)"),
])
def test_a_price_with_too_many_decimals_is_refused(amount, currency, message):
    with pytest.raises(BusinessError) as exc:
        require_precision(amount, currency, "input.price")
    assert codes(exc) == [("TOO_MANY_DECIMALS", "input.price")]
    assert exc.value.message == message


def test_a_price_that_is_not_a_number_or_in_no_currency_is_refused():
    with pytest.raises(BusinessError) as exc:
        require_precision(1.5, "EUR", "price")
    assert codes(exc) == [("INVALID_AMOUNT", "price")]
    with pytest.raises(BusinessError) as exc:
        require_precision("1", "euro", "price")
    assert codes(exc) == [("INVALID_CURRENCY", "price")]
