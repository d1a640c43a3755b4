"""Pricing a cart (or a placed order's lines) with the live promotions: the runtime side of
:func:`rules.promotion_engine.evaluate`.

:func:`price` is the one entry: it builds the cart fact, decides what the runtime blocks (stale
promotions, enforced usage limits already reached) and runs the engine once. :func:`price_cart`
and :func:`price_order_lines` feed it from a cart or from an order (simulation against history).
With no live promotion nothing is read: a store without promotions pays no statement for them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from rules.promotion_engine import PromotionSet, Result, evaluate
from sqlalchemy import select
from sqlmodel import Session

from runtime.carts.models import Cart, CartLine
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.promotions import usage
from runtime.promotions.arithmetic import MONEY
from runtime.promotions.facts import Buyer, PricedLine, cart_fact
from runtime.promotions.live import LivePromotions, check_stale, live_promotions
from runtime.promotions.models import CartCoupon, PromotionCoupon


@dataclass
class Priced:
    """The engine's result with what the runtime needs to show and record it."""

    result: Result
    live: LivePromotions | None
    fact: dict[str, Any] = field(default_factory=dict)
    currency: str = ""
    at: datetime | None = None
    zone: str = "UTC"
    #: Generated code → promotion, for the cart's codes.
    owners: dict[str, str] = field(default_factory=dict)

    def revision(self, name: str) -> int:
        return self.live.revisions.get(name, 0) if self.live else 0

    def message(self, name: str) -> str:
        return self.live.message(name) if self.live else "Discount"

    @property
    def total(self) -> Decimal:
        return self.result.total

    def code_of(self, name: str) -> str | None:
        """The cart's code that unlocks promotion ``name``, if any."""
        promotion = self.live.promotions.by_name(name) if self.live else None
        if promotion is None:
            return None
        return next((code for code in self.fact.get("coupon_codes", ())
                     if code in promotion.codes or self.owners.get(code) == name), None)

    def line_discount(self, line_id: Any) -> Decimal:
        return self.result.line_discount(str(line_id))

    @property
    def shipping_discount(self) -> Decimal:
        return self.result.shipping_discount


def empty(currency: str) -> Priced:
    return Priced(Result(currency, []), None, currency=currency)


def coupon_owners(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """Generated code → its promotion, for the given (upper-case) codes."""
    if not codes:
        return {}
    rows = session.execute(select(PromotionCoupon.code, PromotionCoupon.promotion_name)
                           .where(PromotionCoupon.code.in_(sorted(set(codes)))))
    return dict(rows.all())


def price(session: Session, app: Flask, *, channel: Channel, currency: str, lines: Sequence[PricedLine], buyer: Buyer,
          coupon_codes: Sequence[str] = (), shipping: Decimal = Decimal(0), at: datetime | None = None,
          cart_id: str | None = None, promotions: PromotionSet | None = None,
          blocked: Mapping[str, tuple[str, str]] | None = None) -> Priced:
    """Price ``lines`` with the live promotions (or ``promotions``: a draft set, for previews).

    ``blocked`` adds to what the runtime blocks (stale, limits reached); a caller pricing with
    a draft set passes its own and nothing is checked for it."""
    live = live_promotions(app)
    chosen = promotions if promotions is not None else live.promotions
    if not len(chosen):
        return empty(currency)
    codes = [code.upper() for code in coupon_codes]
    fact = cart_fact(session, channel=channel, currency=currency, lines=lines, buyer=buyer, coupon_codes=codes,
                     cart_id=cart_id)
    found: dict[str, tuple[str, str]] = dict(blocked or {})
    owners = coupon_owners(session, codes)
    if promotions is None:
        check_stale(session, app, live)
        found.update(live.blocked())
        found.update(usage.limits_reached(session, live.promotions, buyer, codes, owners))
    at, zone = at or utcnow(), channel.time_zone or "UTC"
    result = evaluate(chosen, fact, money=MONEY, at=at, zone=zone, shipping=Decimal(shipping), blocked=found,
                      coupon_owners=owners)
    return Priced(result, live if promotions is None else None, fact, currency, at, zone, owners)


def cart_codes(session: Session, cart_id: int) -> list[str]:
    return list(session.execute(select(CartCoupon.code).where(CartCoupon.cart_id == cart_id)
                                .order_by(CartCoupon.id)).scalars())


def buyer_of(cart: Cart) -> Buyer:
    return Buyer(cart.customer_id, cart.account_id, cart.user_id, cart.email)


def channel_of(session: Session, cart: Cart, channel: Channel | None = None) -> Channel:
    return channel if channel is not None and channel.id == cart.channel_id else session.get(Channel, cart.channel_id)


def priced_lines(lines: Sequence[CartLine]) -> list[PricedLine]:
    return [PricedLine(str(line.id), line.variant_id, line.quantity, line.unit_price) for line in lines]


def price_cart(session: Session, app: Flask, cart: Cart, lines: Sequence[CartLine], *,
               shipping: Decimal | None = None, channel: Channel | None = None) -> Priced:
    """The cart's discounts now (what the cart shows and what placeOrder applies)."""
    if not len(live_promotions(app).promotions):
        return empty(cart.currency)
    return price(session, app, channel=channel_of(session, cart, channel), currency=cart.currency,
                 lines=priced_lines(lines), buyer=buyer_of(cart),
                 coupon_codes=cart_codes(session, cart.id),
                 shipping=cart.shipping_total if shipping is None else shipping, cart_id=str(cart.id))


def price_order_lines(session: Session, app: Flask, order: Any, lines: Sequence[Any], *,
                      promotions: PromotionSet | None = None, coupon_codes: Sequence[str] = (),
                      at: datetime | None = None) -> Priced:
    """A placed order's lines priced again (simulation against history): the order's channel,
    currency, buyer and shipping, at ``at`` (default: when it was placed). Each order line
    becomes a line with id ``str(order_line.id)`` at its undiscounted unit price."""
    channel = session.get(Channel, order.channel_id)
    priced = [PricedLine(str(line.id), line.variant_id, line.quantity, line.unit_price) for line in lines]
    return price(session, app, channel=channel, currency=order.currency, lines=priced,
                 buyer=Buyer(order.customer_id, order.account_id, order.user_id, order.email),
                 coupon_codes=coupon_codes, shipping=order.shipping_total, at=at or order.created_at,
                 promotions=promotions, blocked={} if promotions is not None else None)
