"""The flat rate :class:`~runtime.packs.api.ShippingRateProvider`."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from runtime.packs.api import (
    Money,
    ProviderError,
    ProviderErrorCode,
    ShippingRate,
    ShippingRateRequest,
)


class FlatRateProvider:
    def __init__(self, config_schema: dict[str, Any]):
        from jsonschema import Draft202012Validator

        self._validator = Draft202012Validator(config_schema)

    def quote(self, request: ShippingRateRequest, config: dict[str, Any]) -> list[ShippingRate]:
        """The rates offered for ``request``, cheapest first (then by code)."""
        self._check(config)
        currency = request.subtotal.currency
        free_over = config.get("free_over")
        free = free_over is not None and request.subtotal >= _money(free_over, currency, "free_over")
        quotes = []
        for index, rate in enumerate(config["rates"]):
            where = f"rates.{index}"
            price = _money(rate, currency, where)
            if rate.get("countries") and request.country not in rate["countries"]:
                continue
            if "min_order" in rate and request.subtotal < Money(Decimal(rate["min_order"]), currency):
                continue
            if "max_order" in rate and request.subtotal >= Money(Decimal(rate["max_order"]), currency):
                continue
            quotes.append(ShippingRate(rate["code"], rate["name"], Money.zero(currency) if free else price))
        return sorted(quotes, key=lambda q: (q.amount.amount, q.code))

    def _check(self, config: dict[str, Any]) -> None:
        errors = sorted(self._validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            first = errors[0]
            field = ".".join(str(p) for p in first.absolute_path) or None
            message = "; ".join(f"{'.'.join(map(str, e.absolute_path)) or '(config)'}: {e.message}" for e in errors)
            raise ProviderError(ProviderErrorCode.PROVIDER_CONFIG_INVALID, f"flat rate configuration: {message}", field=field)


def _money(value: dict[str, str], order_currency: str, where: str) -> Money:
    if value["currency"] != order_currency:
        raise ProviderError(
            ProviderErrorCode.CURRENCY_MISMATCH,
            f"{where}.currency: priced in {value['currency']} but the order is in {order_currency};"
            " configure rates in the order's currency",
            field=f"{where}.currency",
            expected=order_currency,
            actual=value["currency"],
        )
    return Money(Decimal(value["amount"]), value["currency"])
