"""An order to be written: what the checkout pipeline (or ``adminCreateOrder``) hands to
:func:`runtime.orders.service.create_order`. Plain values, so stages can be tested alone."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from runtime.money import Money
from runtime.pricing.types import Price


@dataclass(frozen=True)
class OrderLineDraft:
    variant_id: int
    sku: str
    product_name: str
    variant_name: str
    quantity: int
    price: Price
    #: The chosen package and its base units per package; ``quantity`` counts packages then.
    package_slug: str | None = None
    package_multiplier: int = 1

    @property
    def line_total(self) -> Money:
        return self.price.line_total


@dataclass
class OrderDraft:
    channel_id: int
    currency: str
    base_currency: str
    #: ``total × exchange_rate = base_total`` (1 when the currencies are the same).
    exchange_rate: Decimal
    lines: list[OrderLineDraft]
    subtotal: Money
    shipping_total: Money
    total: Money
    discount_total: Money | None = None
    tax_total: Money | None = None
    email: str | None = None
    user_id: int | None = None
    customer_id: int | None = None
    account_id: int | None = None
    location_id: int | None = None
    cart_id: int | None = None
    idempotency_key: str | None = None
    created_by: str | None = None
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    shipping_method: dict[str, Any] | None = None
    #: Each stage's notes, keyed by stage name (``{"pricing": {...}, "shipping": {...}}``).
    pipeline: dict[str, Any] = field(default_factory=dict)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)
