"""The catalog phase on product listings: every variant price a request shows, discounted by the
live catalog promotions in ONE batch evaluation per request, in a fixed number of statements
(the variants' facts, their categories' ancestors, the buyer's group and account)."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from flask import Flask
from rules.promotion_engine import catalog_prices
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.pricing.types import Price
from runtime.promotions.arithmetic import MONEY
from runtime.promotions.facts import Buyer, PricedLine, buyer_facts, line_facts
from runtime.promotions.live import LivePromotions, check_stale, live_promotions


def discounted(session: Session, app: Flask, prices: Sequence[Price], *, channel: Channel | None,
               actor: Actor, live: LivePromotions | None = None) -> dict[tuple[int, int, str], tuple[Decimal, list[str]]]:
    """(variant id, quantity, currency) → (unit price after catalog promotions, their names)."""
    live = live if live is not None else live_promotions(app)
    check_stale(session, app, live)
    facts = line_facts(session, [PricedLine(f"{p.variant_id}:{p.quantity}:{p.unit_price.currency}", p.variant_id, 1,
                                            p.unit_price.amount) for p in prices])
    scope = {"channel": channel.slug if channel is not None else None,
             **buyer_facts(session, Buyer(actor.customer_id, actor.account_id))}
    found: dict[tuple[int, int, str], tuple[Decimal, list[str]]] = {}
    for currency in sorted({p.unit_price.currency for p in prices}):
        chosen = [(p, fact) for p, fact in zip(prices, facts) if p.unit_price.currency == currency]
        results = catalog_prices(live.catalog, [fact for _p, fact in chosen], money=MONEY, currency=currency,
                                 scope=scope, at=utcnow(), zone=(channel.time_zone if channel else None) or "UTC",
                                 blocked=live.blocked())
        for (price, _fact), result in zip(chosen, results):
            found[(price.variant_id, price.quantity, currency)] = result
    return found
