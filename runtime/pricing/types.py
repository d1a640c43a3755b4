"""What pricing is asked and what it answers: shared by the catalog, carts, checkout and orders."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from runtime.money import Money
from runtime.pricing.models import PriceLevel


@dataclass(frozen=True)
class PriceContext:
    """Who buys where, when, in which currency: everything that selects a price list."""

    currency: str
    at: datetime
    channel_id: int | None = None
    customer_group_id: int | None = None
    account_id: int | None = None
    location_id: int | None = None


@dataclass(frozen=True)
class Price:
    """A variant's unit price at a quantity, and where it came from."""

    variant_id: int
    quantity: int
    unit_price: Money
    #: Which level won: ``BASE`` (the variant's base price) up to ``LOCATION``.
    level: PriceLevel
    #: The list that gave the price (None for the base price).
    price_list_id: int | None
    price_list_slug: str | None
    #: The volume tier applied: the entry's minimum quantity (1 for the base price).
    min_quantity: int
    #: The variant's base price in the store's base currency, for the order's base amounts.
    base_price: Money
    compare_at_price: Money | None = None
    #: The winning list's name (None for the base price).
    price_list_name: str | None = None
    #: Every volume tier of the winning source for this variant, ``(min_quantity, unit price)``
    #: by ascending quantity; the base price is the single tier ``((1, base),)``.
    tiers: tuple[tuple[int, Money], ...] = ()

    @property
    def line_total(self) -> Money:
        return self.unit_price * self.quantity
