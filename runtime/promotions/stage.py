"""The promotions' checkout stages, inside placeOrder's transaction:

====  ===================  ==============================================================
200   promotions           price the locked cart with the live promotions; set the discount
310   promotion_shipping   after shipping was quoted again (300): re-price if its amount moved
810   promotion_usage      after the order exists (800): discount lines, usage counts, event
====  ===================  ==============================================================

The cart shows exactly what stage 200 computes (the same :func:`service.price_cart`).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import insert, select

from runtime.checkout.pipeline import Checkout, Stage
from runtime.clock import utcnow
from runtime.events import emit
from runtime.orders.models import OrderLine
from runtime.promotions import service, usage
from runtime.promotions.models import OrderDiscount
from runtime.promotions.service import Priced

#: Where the checkout's pricing is kept between the stages (the transaction's session info).
PRICED = "vectis.promotions.priced"


def _apply(checkout: Checkout, shipping) -> Priced:
    priced = service.price_cart(checkout.session, current_app, checkout.cart, checkout.lines, shipping=shipping,
                                channel=checkout.channel)
    checkout.session.info[PRICED] = (priced, shipping)
    checkout.discount_total = checkout.money(priced.total)
    if priced.result.applied:
        checkout.note("promotions", applied=[
            {"promotion": o.name, "revision": priced.revision(o.name), "phase": o.phase,
             "amount": format(checkout.money(o.amount).amount, "f"), **({"coupon": o.coupon} if o.coupon else {})}
            for o in priced.result.applied])
    else:
        checkout.notes.pop("promotions", None)
    return priced


def discount(checkout: Checkout) -> None:
    """Stage 200: the line, order and shipping (as quoted on the cart) discounts.

    A promotion whose enforced limit is already reached does not apply (the cart showed that
    too) — unless the buyer applied its coupon: then placeOrder is refused, never silently
    priced without the code the buyer entered."""
    priced = _apply(checkout, checkout.cart.shipping_total)
    for outcome in priced.result.outcomes:
        if outcome.reason != usage.USAGE_LIMIT_REACHED:
            continue
        code = priced.code_of(outcome.name)
        if code is not None:
            raise usage.limit_error(code, usage.limit_of(outcome.detail))


def reprice_shipping(checkout: Checkout) -> None:
    """Stage 310: the shipping phase again when stage 300 changed the shipping amount."""
    priced, used = checkout.session.info.get(PRICED, (None, None))
    if priced is None or checkout.shipping_total is None or checkout.shipping_total.amount == used:
        return
    _apply(checkout, checkout.shipping_total.amount)
    checkout.cart.total = checkout.total.amount


def record(checkout: Checkout) -> None:
    """Stage 810: discount lines per order line and per shipping, usage counters, ``promotion.applied``."""
    priced, _used = checkout.session.info.pop(PRICED, (None, None))
    if priced is None or not priced.result.applied:
        return
    session, order = checkout.session, checkout.order
    session.flush()  # the order lines' ids
    order_lines = list(session.execute(select(OrderLine.id).where(OrderLine.order_id == order.id)
                                       .order_by(OrderLine.id)).scalars())
    by_cart_line = {str(line.id): order_line for line, order_line in zip(checkout.lines, order_lines)}
    buyer = service.buyer_of(checkout.cart)
    rows, now = [], utcnow()
    for outcome in priced.result.applied:
        common = {"order_id": order.id, "phase": outcome.phase, "promotion_name": outcome.name,
                  "promotion_revision": priced.revision(outcome.name), "label": priced.message(outcome.name),
                  "coupon_code": outcome.coupon, "currency": order.currency}
        rows += [{"order_line_id": by_cart_line[line_id], "kind": "line", "amount": amount, **common}
                 for line_id, amount in outcome.lines.items() if amount]
        if outcome.shipping:
            rows.append({"order_line_id": None, "kind": "shipping", "amount": outcome.shipping, **common})
        promotion = priced.live.promotions.by_name(outcome.name)
        if promotion is not None and promotion.limits:
            usage.count(session, order.id, promotion, buyer, outcome.coupon)
    # One executemany whatever the number of discount lines (nothing reads their ids back).
    if rows:
        session.execute(insert(OrderDiscount.__table__), [{**row, "created_at": now} for row in rows])
    emit(session, "promotion.applied", {
        "order_id": str(order.id), "channel_id": str(order.channel_id), "currency": order.currency,
        "discount_total": format(order.discount_total, "f"),
        **({"customer_id": str(order.customer_id)} if order.customer_id is not None else {}),
        **({"account_id": str(order.account_id)} if order.account_id is not None else {}),
        "promotions": [{"name": o.name, "revision": priced.revision(o.name), "phase": o.phase,
                        "amount": format(checkout.money(o.amount).amount, "f"),
                        **({"coupon_code": o.coupon} if o.coupon else {})} for o in priced.result.applied],
    }, key=str(order.id))


STAGES = (
    Stage("promotions", 200, discount, "Apply the live promotions' line, order and shipping discounts."),
    Stage("promotion_shipping", 310, reprice_shipping, "Re-price the shipping phase if shipping was re-quoted."),
    Stage("promotion_usage", 810, record, "Write discount lines, count coupon and promotion usage, emit promotion.applied."),
)
