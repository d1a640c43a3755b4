"""The facts caps read: a variant (``schemas/facts/variant.schema.json``) and a customer's slugs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select


def variant_fact(variant, product) -> dict[str, Any]:
    """A catalog variant (and its product's tags) as the ``variant`` fact."""
    fact = {"id": str(variant.id), "sku": variant.sku, "product_id": str(variant.product_id), "name": variant.name,
            "price": float(variant.base_price), "currency": variant.base_currency,
            "options": {str(k): str(v) for k, v in (variant.attributes or {}).items()},
            "tags": list(product.tags or [])}
    if variant.compare_at_price is not None:
        fact["compare_at_price"] = float(variant.compare_at_price)
    if variant.weight_grams is not None:
        fact["weight_grams"] = variant.weight_grams
    return fact


@dataclass(frozen=True)
class Customer:
    """Who buys: the slugs a cap's ``scope`` matches, and the key the 30-day window counts by."""

    channel_id: int
    channel: str | None = None
    #: The channel's IANA time zone: the 30-day window's calendar.
    time_zone: str = "UTC"
    account: str | None = None
    customer_group: str | None = None
    #: ``("account", id)``, ``("customer", id)``, ``("user", id)``, ``("email", address)`` or None.
    key: tuple[str, Any] | None = None

    @property
    def fact(self) -> dict[str, str]:
        values = {"channel": self.channel, "account": self.account, "customer_group": self.customer_group}
        return {name: value for name, value in values.items() if value is not None}


def customer_of(session: Session, cart, group_id: int | None, channel=None) -> Customer:
    """The cart's buyer: its account (B2B), else its customer, user or e-mail; ``group_id`` is
    the customer group pricing uses (``runtime.carts.lines.price_context``); ``channel``: the
    cart's channel when the caller has it."""
    from runtime.accounts.models import Account, CustomerGroup
    from runtime.channels.models import Channel

    if channel is not None and channel.id == cart.channel_id:
        channel, time_zone = channel.slug, channel.time_zone
    else:
        channel, time_zone = session.exec(select(Channel.slug, Channel.time_zone)
                                          .where(Channel.id == cart.channel_id)).one()
    account = session.exec(select(Account.slug).where(Account.id == cart.account_id)).first() if cart.account_id else None
    group = session.exec(select(CustomerGroup.slug).where(CustomerGroup.id == group_id)).first() if group_id else None
    key = (("account", cart.account_id) if cart.account_id else ("customer", cart.customer_id) if cart.customer_id
           else ("user", cart.user_id) if cart.user_id else ("email", cart.email.lower()) if cart.email else None)
    return Customer(cart.channel_id, channel, time_zone, account, group, key)
