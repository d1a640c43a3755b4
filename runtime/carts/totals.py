"""A cart's total as GraphQL shows it: subtotal + shipping + what later domains add to it.

The checkout pipeline composes an order's total from its stages (promotions subtract their
discounts at 200, tax on a tax-exclusive channel adds at 400); the cart shows the same sum before
checkout. A later domain registers an adjustment here instead of overriding ``Cart.total``, so the
cart never imports promotions or tax and two domains never bind the same field.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from runtime.carts.models import Cart

#: ``adjust(cart, info)`` answers the signed amount this domain adds to the cart's total.
Adjust = Callable[[Cart, Any], Decimal]


@dataclass(frozen=True)
class TotalAdjustment:
    name: str
    position: int
    adjust: Adjust


_ADJUSTMENTS: dict[str, TotalAdjustment] = {}


def register_adjustment(name: str, position: int, adjust: Adjust) -> None:
    """Add (or replace, by name) an adjustment; they are summed in ``position`` order, as the
    checkout stages that compute the same amounts run."""
    _ADJUSTMENTS[name] = TotalAdjustment(name, position, adjust)


def adjustments() -> list[TotalAdjustment]:
    return sorted(_ADJUSTMENTS.values(), key=lambda a: (a.position, a.name))


def cart_total(cart: Cart, info) -> Decimal:
    """What placeOrder would charge for this cart now, from the request's cached pricing."""
    total = Decimal(cart.subtotal) + Decimal(cart.shipping_total)
    for adjustment in adjustments():
        total += adjustment.adjust(cart, info)
    return total
