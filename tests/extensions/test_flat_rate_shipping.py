"""The flat rate shipping pack: quotes per country, order-value bands, free-over, refusals."""
from __future__ import annotations

from decimal import Decimal

import pytest

from extensions.flat_rate_shipping import CONFIG_SCHEMA, register
from runtime.config import ROOT
from runtime.packs.api import Money, PackContext, ProviderError, ShippingRate, ShippingRateRequest
from runtime.packs.manifest import load_manifest
from runtime.packs.registry import Registry
from runtime.packs.slots import declare_core_slots

CONFIG = {
    "rates": [
        {"code": "standard", "name": "Standard", "amount": "4.90", "currency": "EUR", "countries": ["DE", "AT"]},
        {"code": "express", "name": "Express", "amount": "12.00", "currency": "EUR", "countries": ["DE"]},
        {"code": "world", "name": "International", "amount": "19.50", "currency": "EUR"},
        {"code": "bulky", "name": "Bulky order", "amount": "30", "currency": "EUR", "min_order": "500", "max_order": "1000"},
    ],
    "free_over": {"amount": "100.00", "currency": "EUR"},
}


@pytest.fixture
def provider():
    registry = Registry()
    declare_core_slots(registry)
    manifest = load_manifest(ROOT / "extensions" / "flat_rate_shipping" / "manifest.yaml")
    with registry.staged():
        register(PackContext(registry, manifest))
    return registry.get("flat_rate_shipping.shipping_rate_provider.flat_rate").value


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def quote(provider, country: str, subtotal: Money, config=CONFIG) -> list[tuple[str, str]]:
    return [(r.code, str(r.amount)) for r in provider.quote(ShippingRateRequest(country, subtotal), config)]


def test_rates_are_offered_per_country_cheapest_first(provider):
    assert quote(provider, "DE", eur("20")) == [("standard", "4.90 EUR"), ("express", "12.00 EUR"), ("world", "19.50 EUR")]
    assert quote(provider, "AT", eur("20")) == [("standard", "4.90 EUR"), ("world", "19.50 EUR")]
    assert quote(provider, "FR", eur("20")) == [("world", "19.50 EUR")]


def test_a_quote_is_a_shipping_rate_with_money(provider):
    rates = provider.quote(ShippingRateRequest("FR", eur("20")), CONFIG)
    assert rates == [ShippingRate("world", "International", eur("19.50"))]


def test_every_rate_is_free_from_the_threshold_on(provider):
    assert quote(provider, "DE", eur("99.99")) == [("standard", "4.90 EUR"), ("express", "12.00 EUR"), ("world", "19.50 EUR")]
    assert quote(provider, "DE", eur("100.00")) == [("express", "0.00 EUR"), ("standard", "0.00 EUR"), ("world", "0.00 EUR")]


def test_order_value_bands_include_the_minimum_and_exclude_the_maximum(provider):
    config = {"rates": [CONFIG["rates"][3]]}
    assert quote(provider, "FR", eur("499.99"), config) == []
    assert quote(provider, "FR", eur("500.00"), config) == [("bulky", "30.00 EUR")]
    assert quote(provider, "FR", eur("999.99"), config) == [("bulky", "30.00 EUR")]
    assert quote(provider, "FR", eur("1000.00"), config) == []


def test_a_rate_in_another_currency_than_the_order_is_refused(provider):
    with pytest.raises(ProviderError) as raised:
        provider.quote(ShippingRateRequest("US", Money(Decimal("20"), "USD")), CONFIG)

    error = raised.value
    assert error.code == "CURRENCY_MISMATCH"
    assert error.field == "free_over.currency"
    assert error.message == (
        "free_over.currency: priced in EUR but the order is in USD; configure rates in the order's currency"
    )
    assert error.params == {"expected": "USD", "actual": "EUR"}


def test_a_rate_currency_mismatch_names_the_rate(provider):
    config = {"rates": [CONFIG["rates"][0], {**CONFIG["rates"][2], "currency": "USD"}]}
    with pytest.raises(ProviderError) as raised:
        provider.quote(ShippingRateRequest("DE", eur("20")), config)
    assert (raised.value.code, raised.value.field) == ("CURRENCY_MISMATCH", "rates.1.currency")


def test_a_configuration_outside_the_schema_is_refused_with_every_problem(provider):
    config = {"rates": [{"code": "std", "name": "Standard", "amount": 4.9, "currency": "EUR"}], "free": True}
    with pytest.raises(ProviderError) as raised:
        provider.quote(ShippingRateRequest("DE", eur("20")), config)
    assert raised.value.code == "PROVIDER_CONFIG_INVALID"
    assert raised.value.message == (
        "flat rate configuration: (config): Additional properties are not allowed ('free' was unexpected);"
        " rates.0.amount: 4.9 is not of type 'string'"
    )


def test_the_config_schema_accepts_the_documented_example():
    from jsonschema import Draft202012Validator

    assert list(Draft202012Validator(CONFIG_SCHEMA).iter_errors(CONFIG)) == []

