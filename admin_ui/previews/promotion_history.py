"""Simulation against history: the placed orders of the last N days priced again, at the time
each was placed, with the live promotions and with the draft in place of its live revision —
how many orders each would have touched, the discount each would have given, the SKUs most
affected.

Bounded and read-only: at most :data:`MAX_DAYS` days and :data:`MAX_ORDERS` orders (newest
first), read in batches of :data:`BATCH` orders — per batch one statement for the lines, two for
the lines' facts, one for the codes the orders' carts applied, one for generated codes' owners,
and one per buyer not seen before. Only SELECTs are issued (a test asserts it).

Each order is priced at its undiscounted line prices and shipping, with the coupon codes its
cart applied; the buyer's customer group and account are today's. Two options apply to this
promotion on both sides: ``ignore schedule`` (as if it had run then) and ``assume coupon`` (as
if every order had entered one of its codes).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rules.promotion_engine import PromotionSet, evaluate
from sqlalchemy import select
from sqlmodel import Session

from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.orders.models import Order, OrderLine
from runtime.promotions import service
from runtime.promotions.arithmetic import MONEY
from runtime.promotions.facts import Buyer, PricedLine, buyer_facts, line_facts, number
from runtime.promotions.models import CartCoupon

DEFAULT_DAYS = 30
MAX_DAYS = 365
DEFAULT_MAX_ORDERS = 1000
#: However many days are asked, at most this many orders are priced again.
MAX_ORDERS = 5000
BATCH = 200
TOP_SKUS = 10
SAMPLE_ORDERS = 10
#: Orders that never were (draft) or no longer are (cancelled) sales are left out.
SKIPPED_STATES = ("draft", "cancelled")
ZERO = Decimal(0)


def _bounded(form, key: str, default: int, maximum: int) -> int | str:
    raw = form.get(key, "").strip() or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        return f"{key}: expected a whole number from 1 to {maximum}, got {raw!r}"
    return int(raw)


def _options(sets, name: str, ignore_schedule: bool, assume_coupon: bool):
    """The sets with this promotion (draft and live revision) opened up as asked."""
    if not (ignore_schedule or assume_coupon):
        return sets
    changes = {**({"starts_at": None, "ends_at": None} if ignore_schedule else {}),
               **({"requires_coupon": False} if assume_coupon else {})}
    return {side: (PromotionSet([replace(p, **changes) if p.name == name else p for p in chosen.promotions]), blocked)
            for side, (chosen, blocked) in sets.items()}


def simulate(session: Session, app, form, sets, name: str) -> dict[str, Any]:
    days = _bounded(form, "simulate_days", DEFAULT_DAYS, MAX_DAYS)
    limit = _bounded(form, "simulate_max_orders", DEFAULT_MAX_ORDERS, MAX_ORDERS)
    problems = [value for value in (days, limit) if isinstance(value, str)]
    if problems:
        return {"problems": problems}
    ignore_schedule, assume_coupon = bool(form.get("simulate_ignore_schedule")), bool(form.get("simulate_assume_coupon"))
    sets = _options(sets, name, ignore_schedule, assume_coupon)
    since = utcnow() - timedelta(days=days)
    orders = list(session.execute(
        select(Order.id, Order.number, Order.channel_id, Order.cart_id, Order.currency, Order.customer_id,
               Order.account_id, Order.user_id, Order.email, Order.shipping_total, Order.created_at)
        .where(Order.created_at >= since, Order.state.not_in(SKIPPED_STATES))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit + 1)).all())
    tally = Tally(name)
    channels: dict[int, Channel] = {}
    buyers: dict[Buyer, dict[str, Any]] = {}
    for start in range(0, min(len(orders), limit), BATCH):
        _batch(session, orders[start:min(start + BATCH, limit)], sets, channels, buyers, tally)
    return {"days": days, "since": since, "max_orders": limit, "truncated": len(orders) > limit,
            "ignore_schedule": ignore_schedule, "assume_coupon": assume_coupon, **tally.summary()}


def _batch(session: Session, orders, sets, channels: dict[int, Channel], buyers: dict, tally: Tally) -> None:
    ids = [order.id for order in orders]
    rows = list(session.execute(select(OrderLine.id, OrderLine.order_id, OrderLine.variant_id, OrderLine.sku,
                                       OrderLine.quantity, OrderLine.unit_price)
                                .where(OrderLine.order_id.in_(ids)).order_by(OrderLine.order_id, OrderLine.id)).all())
    facts = line_facts(session, [PricedLine(str(r.id), r.variant_id, r.quantity, r.unit_price) for r in rows])
    by_order: dict[int, list] = defaultdict(list)
    for row, fact in zip(rows, facts):
        by_order[row.order_id].append((row, fact))
    codes = _codes(session, orders)
    owners = service.coupon_owners(session, sorted({c for found in codes.values() for c in found}))
    missing = sorted({order.channel_id for order in orders} - set(channels))
    if missing:
        channels.update({c.id: c for c in session.execute(select(Channel).where(Channel.id.in_(missing))).scalars()})
    for order in orders:
        buyer = Buyer(order.customer_id, order.account_id, order.user_id, order.email)
        if buyer not in buyers:
            buyers[buyer] = buyer_facts(session, buyer)
        lines = by_order.get(order.id, [])
        fact = order_fact(order, channels[order.channel_id].slug, lines, codes.get(order.id, []), buyers[buyer])
        zone = channels[order.channel_id].time_zone or "UTC"
        results = {side: evaluate(chosen, fact, money=MONEY, at=order.created_at, zone=zone,
                                  shipping=order.shipping_total, blocked=blocked, coupon_owners=owners)
                   for side, (chosen, blocked) in sets.items()}
        tally.add(order, lines, results)


def _codes(session: Session, orders) -> dict[int, list[str]]:
    """Order id → the coupon codes its cart applied (upper-case, in the order applied)."""
    carts = {order.cart_id: order.id for order in orders if order.cart_id is not None}
    found: dict[int, list[str]] = defaultdict(list)
    if carts:
        for cart_id, code in session.execute(select(CartCoupon.cart_id, CartCoupon.code)
                                             .where(CartCoupon.cart_id.in_(sorted(carts))).order_by(CartCoupon.id)):
            found[carts[cart_id]].append(code.upper())
    return found


def order_fact(order, channel: str, lines, codes: list[str], buyer: dict[str, Any]) -> dict[str, Any]:
    """A placed order as a cart fact: the shape of :func:`runtime.promotions.facts.cart_fact`
    (a test keeps them equal), built from facts read for a whole batch."""
    subtotal = sum((row.unit_price * row.quantity for row, _fact in lines), ZERO)
    fact: dict[str, Any] = {"currency": order.currency, "channel": channel, "lines": [f for _row, f in lines],
                            "subtotal": number(subtotal), "discount_total": 0.0,
                            "item_count": sum(row.quantity for row, _fact in lines), "line_count": len(lines),
                            "coupon_codes": list(codes)}
    fact.update(buyer)
    return fact


class Tally:
    """What the simulation shows, summed per currency (orders may be in several)."""

    def __init__(self, name: str):
        self.name, self.scanned = name, 0
        self.touched = {"live": 0, "draft": 0}
        self.own: dict[str, dict[str, Decimal]] = {"live": defaultdict(Decimal), "draft": defaultdict(Decimal)}
        self.every: dict[str, dict[str, Decimal]] = {"live": defaultdict(Decimal), "draft": defaultdict(Decimal)}
        self.changed = 0
        self.samples: list[dict[str, Any]] = []
        self.skus: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, order, lines, results) -> None:
        self.scanned += 1
        currency = order.currency
        for side, result in results.items():
            outcome = next((o for o in result.outcomes if o.name == self.name), None)
            if outcome is not None and outcome.applied:
                self.touched[side] += 1
                self.own[side][currency] += outcome.amount
                for row, _fact in lines:
                    amount = outcome.lines.get(str(row.id), ZERO)
                    if amount:
                        entry = self.skus.setdefault((row.sku, currency), {
                            "sku": row.sku, "currency": currency, "orders": {"live": 0, "draft": 0},
                            "live": ZERO, "draft": ZERO})
                        entry[side] += amount
                        entry["orders"][side] += 1
            self.every[side][currency] += result.total
        if results["live"].total != results["draft"].total:
            self.changed += 1
            if len(self.samples) < SAMPLE_ORDERS:
                self.samples.append({"number": order.number, "currency": currency,
                                     "live": results["live"].total, "draft": results["draft"].total})

    def summary(self) -> dict[str, Any]:
        currencies = sorted(set(self.every["live"]) | set(self.every["draft"]))
        top = sorted(self.skus.values(), key=lambda e: (-max(e["draft"], e["live"]), e["sku"], e["currency"]))
        return {"scanned": self.scanned, "touched": self.touched, "changed": self.changed,
                "currencies": [{"currency": c, "own_live": self.own["live"].get(c, ZERO),
                                "own_draft": self.own["draft"].get(c, ZERO), "all_live": self.every["live"][c],
                                "all_draft": self.every["draft"][c]} for c in currencies],
                "top_skus": top[:TOP_SKUS], "samples": self.samples}
