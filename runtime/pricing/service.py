"""Price resolution: who buys where, when (:func:`price_context`), and what each variant costs
them (:func:`resolve_prices`).

The five levels, least specific first: the variant's base price, then CHANNEL, CUSTOMER_GROUP,
ACCOUNT and LOCATION (contract) price lists. The most specific level with an applicable entry
wins. Within one level the higher priority wins, then the lower price, then the lower list id.
Within a list, the entry with the largest ``min_quantity`` not above the quantity is the tier.

Price list management lives in :mod:`runtime.pricing.lists`; its functions are re-exported here.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, bindparam, or_
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.catalog.models import ProductVariant
from runtime.channels.models import Channel
from runtime.channels.rates import apply_rate, rate_at
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.pricing.errors import PricingErrorCode as Code
from runtime.pricing.lists import (  # noqa: F401  (re-exported: the management API)
    create_price_list,
    get_price_list,
    list_price_lists,
    set_price_list_entries,
    update_price_list,
)
from runtime.pricing.models import PriceLevel, PriceList, PriceListEntry
from runtime.pricing.types import Price, PriceContext

#: List levels, most specific first: the order in which a variant's price is looked for.
LIST_LEVELS = (PriceLevel.LOCATION, PriceLevel.ACCOUNT, PriceLevel.CUSTOMER_GROUP, PriceLevel.CHANNEL)


def price_context(actor: Actor, channel: Channel | None, *, base_currency: str, currency: str | None = None,
                  at: datetime | None = None) -> PriceContext:
    """The context that selects ``actor``'s price lists in ``channel`` at ``at`` (default now).

    ``currency`` defaults to the channel's default currency; without a channel the store sells
    in its base currency only. A currency the channel does not sell in is ``UNSUPPORTED_CURRENCY``.
    """
    supported = list(channel.currencies) if channel is not None else [base_currency]
    currency = currency if currency is not None else (channel.default_currency if channel is not None else base_currency)
    try:
        Money.zero(currency)
    except ValueError:
        raise BusinessError(Code.INVALID_CURRENCY,
                            f"currency: expected a three-letter ISO 4217 code like 'EUR', got {currency!r}",
                            field="currency") from None
    if currency not in supported:
        where = f"channel {channel.slug!r}" if channel is not None else "the store (no channel)"
        raise BusinessError(Code.UNSUPPORTED_CURRENCY,
                            f"currency: {where} does not sell in {currency} (supported: {', '.join(supported)})",
                            field="currency")
    if at is not None and at.tzinfo is None:
        raise BusinessError(Code.INVALID_DATE, "at: expected a time with a zone, like 2026-01-15T12:00:00Z", field="at")
    return PriceContext(
        currency=currency,
        at=at or utcnow(),
        channel_id=channel.id if channel is not None else None,
        customer_group_id=actor.customer_group_id,
        account_id=actor.account_id,
        location_id=actor.location_id,
    )


#: The context fields that scope each list level; a buyer without one has no lists of that level.
_SCOPES = (("channel_id", PriceLevel.CHANNEL), ("customer_group_id", PriceLevel.CUSTOMER_GROUP),
           ("account_id", PriceLevel.ACCOUNT), ("location_id", PriceLevel.LOCATION))


@functools.cache
def _entries_statement(scoped: tuple[str, ...]):
    """The applicable-entries select for a buyer with these scope fields set, built once per shape
    (at most 16) with bind parameters: building it costs more than running it, on every priced
    request."""
    scope = or_(*(and_(PriceList.level == level.value, getattr(PriceList, name) == bindparam(name))
                  for name, level in _SCOPES if name in scoped))
    channel = PriceList.channel_id.is_(None)
    if "channel_id" in scoped:
        channel = or_(channel, PriceList.channel_id == bindparam("channel_id"))
    at = bindparam("at")
    return (
        select(PriceListEntry.variant_id, PriceListEntry.min_quantity, PriceListEntry.price,
               PriceList.id, PriceList.slug, PriceList.name, PriceList.level, PriceList.priority)
        .join(PriceList, PriceList.id == PriceListEntry.price_list_id)
        .where(
            PriceListEntry.variant_id.in_(bindparam("variant_ids", expanding=True)),
            PriceList.is_active,
            PriceList.currency == bindparam("currency"),
            or_(PriceList.valid_from.is_(None), PriceList.valid_from <= at),
            or_(PriceList.valid_until.is_(None), PriceList.valid_until > at),
            channel,
            scope,
        )
    )


def _applicable_entries(session: Session, ctx: PriceContext, variant_ids: list[int]) -> list:
    """Every entry of every applicable list for these variants, in one statement."""
    scoped = tuple(name for name, _level in _SCOPES if getattr(ctx, name) is not None)
    if not scoped or not variant_ids:
        return []
    values = {name: getattr(ctx, name) for name in scoped}
    return list(session.execute(_entries_statement(scoped),
                                {**values, "variant_ids": variant_ids, "currency": ctx.currency, "at": ctx.at}).all())


class _ListOffer:
    """One applicable list's tiers for one variant."""

    __slots__ = ("list_id", "slug", "name", "priority", "tiers")

    def __init__(self, list_id: int, slug: str, name: str, priority: int):
        self.list_id, self.slug, self.name, self.priority = list_id, slug, name, priority
        self.tiers: list[tuple[int, Decimal]] = []

    def tier(self, quantity: int) -> tuple[int, Decimal] | None:
        eligible = [t for t in self.tiers if t[0] <= quantity]
        return max(eligible, key=lambda t: t[0]) if eligible else None


def _offers(rows: list) -> dict[int, dict[str, dict[int, _ListOffer]]]:
    """variant id → level → list id → offer."""
    out: dict[int, dict[str, dict[int, _ListOffer]]] = defaultdict(lambda: defaultdict(dict))
    for variant_id, min_quantity, price, list_id, slug, name, level, priority in rows:
        offer = out[variant_id][level].get(list_id)
        if offer is None:
            offer = out[variant_id][level][list_id] = _ListOffer(list_id, slug, name, priority)
        offer.tiers.append((min_quantity, Decimal(price)))
    return out


def _winner(levels: dict[str, dict[int, _ListOffer]], quantity: int):
    """The most specific level's best offer with a tier for ``quantity``: (level, offer, tier)."""
    for level in LIST_LEVELS:
        candidates = []
        for offer in levels.get(level.value, {}).values():
            tier = offer.tier(quantity)
            if tier is not None:
                candidates.append(((-offer.priority, tier[1], offer.list_id), offer, tier))
        if candidates:
            _, offer, tier = min(candidates, key=lambda c: c[0])
            return level, offer, tier
    return None


def resolve_prices(session: Session, ctx: PriceContext,
                   requests: Sequence[tuple[ProductVariant, int]]) -> dict[int, Price]:
    """Each variant's price at its quantity, keyed by variant id; a variant without one is absent.

    At most two statements whatever the number of variants: the applicable list entries of every
    level at once, and the exchange rate when a base price is in another currency than asked.
    """
    for _, quantity in requests:
        if quantity < 1:
            raise BusinessError(Code.INVALID_QUANTITY, f"quantity: expected 1 or more, got {quantity}", field="quantity")
    offers = _offers(_applicable_entries(session, ctx, sorted({v.id for v, _ in requests})))
    rates: dict[str, Decimal | None] = {}
    for base_currency in sorted({v.base_currency for v, _ in requests} - {ctx.currency}):
        row = rate_at(session, base_currency, ctx.currency, ctx.at)
        rates[base_currency] = row.rate if row is not None else None

    def in_currency(amount: Decimal | None, currency: str) -> Money | None:
        if amount is None:
            return None
        money = Money(amount, currency)
        if currency == ctx.currency:
            return money
        rate = rates.get(currency)
        return apply_rate(money, rate, ctx.currency) if rate is not None else None

    prices: dict[int, Price] = {}
    for variant, quantity in requests:
        base = Money(variant.base_price, variant.base_currency)
        compare_at = in_currency(variant.compare_at_price, variant.base_currency)
        won = _winner(offers.get(variant.id, {}), quantity)
        if won is not None:
            level, offer, (min_quantity, amount) = won
            prices[variant.id] = Price(
                variant_id=variant.id, quantity=quantity, unit_price=Money(amount, ctx.currency), level=level,
                price_list_id=offer.list_id, price_list_slug=offer.slug, min_quantity=min_quantity,
                base_price=base, compare_at_price=compare_at, price_list_name=offer.name,
                tiers=tuple((q, Money(a, ctx.currency)) for q, a in sorted(offer.tiers)))
            continue
        unit = in_currency(variant.base_price, variant.base_currency)
        if unit is None:
            continue  # no rate into the asked currency: no price
        prices[variant.id] = Price(
            variant_id=variant.id, quantity=quantity, unit_price=unit, level=PriceLevel.BASE, price_list_id=None,
            price_list_slug=None, min_quantity=1, base_price=base, compare_at_price=compare_at, tiers=((1, unit),))
    return prices
