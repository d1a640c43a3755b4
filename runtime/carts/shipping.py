"""Shipping rates for a cart: every shipping rate provider the channel enabled, asked for the
cart's destination and subtotal. The chosen rate is stored on the cart and quoted again at
placeOrder, so a cart never ships at a price no provider offers any more."""
from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from runtime.carts.models import Cart
from runtime.channels.providers import providers
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.packs.protocols import ShippingRateRequest

log = logging.getLogger(__name__)

SLOT = "shipping_rate_provider"


def quote(session: Session, cart: Cart, address: dict[str, Any] | None = None,
          configured: list | None = None) -> list[dict[str, Any]]:
    """The rates offered for ``address`` (default: the cart's shipping address), cheapest first:
    ``{provider, code, name, amount}`` with ``amount`` a decimal string in the cart's currency.

    A provider that refuses (a misconfigured rate table, a currency it has no rates in) is left
    out and logged: the other providers still serve the buyer. ``configured``: the channel's
    providers when the caller already loaded them (a list of carts of one channel)."""
    address = address or cart.shipping_address
    if not address or not address.get("country"):
        return []
    request = ShippingRateRequest(country=address["country"], subtotal=Money(cart.subtotal, cart.currency),
                                  postal_code=address.get("postal_code") or None)
    rates: list[dict[str, Any]] = []
    for provider in providers(session, cart.channel_id, SLOT) if configured is None else configured:
        try:
            offered = provider.value.quote(request, provider.config)
        except BusinessError as exc:
            log.warning("shipping provider %s refused to quote cart %s: %s", provider.key, cart.id, exc.message)
            continue
        rates.extend({"provider": provider.key, "code": rate.code, "name": rate.name,
                      "amount": format(rate.amount.amount, "f")} for rate in offered)
    return sorted(rates, key=lambda rate: (Money(rate["amount"], cart.currency).amount, rate["code"]))


def find(rates: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    """The first (cheapest) rate under ``code``."""
    return next((rate for rate in rates if rate["code"] == code), None)
