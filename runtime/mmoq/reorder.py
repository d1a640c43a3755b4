"""``reorder(orderId)``: a new cart with an order's lines, each in the package it was bought in.

A line whose package now holds another number of base units is added in its package and flagged
``unitChanged``; a line whose variant is no longer sold or whose package left the ladder is left
out and says why. The cart goes through ``create_cart`` (so cart checks and caps apply).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines
from runtime.carts import service as carts
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.packaging import service as packaging


@dataclass
class ReorderLine:
    sku: str
    quantity: int
    package: str | None
    previous_multiplier: int
    multiplier: int | None = None
    variant_id: int | None = None
    error: BusinessError | None = None

    @property
    def unit_changed(self) -> bool:
        return self.multiplier is not None and self.multiplier != self.previous_multiplier


def reorder(session: Session, actor: Actor, order_id: str):
    """``(cart, lines)``: the new cart (None when no line can be added) and every order line's fate."""
    from runtime.orders.models import OrderLine
    from runtime.orders.service import get_order

    try:
        order = get_order(session, actor, order_id)
    except BusinessError as exc:
        raise BusinessError(Code.NOT_FOUND, exc.message, field="orderId") from None
    rows = list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))
    variants = cart_lines.load_variants(session, ids=tuple({r.variant_id for r in rows if r.variant_id}),
                                        channel_id=order.channel_id, at=utcnow())
    ladders = packaging.ladders(session, {product.id for _variant, product in variants.values()})
    answered = []
    for index, row in enumerate(rows):
        line = ReorderLine(row.sku, row.quantity, row.package_slug, row.package_multiplier)
        answered.append(line)
        if row.variant_id not in variants:
            line.error = BusinessError(Code.NOT_FOUND, f"lines.{index}: {row.sku!r} is no longer sold in this channel",
                                       field=f"lines.{index}")
            continue
        variant, product = variants[row.variant_id]
        line.variant_id = variant.id
        try:
            line.multiplier = packaging.multiplier(ladders.get(product.id, {}), row.package_slug, f"lines.{index}.package",
                                                   row.sku)
        except BusinessError as exc:
            line.error = BusinessError(Code.UNKNOWN_PACKAGE, exc.message, field=exc.field)
    wanted = [{"variant_id": str(line.variant_id), "quantity": line.quantity, "package": line.package}
              for line in answered if line.error is None]
    if not wanted:
        return None, answered
    channel = session.get(Channel, order.channel_id)
    cart = carts.create_cart(session, actor, channel, currency=order.currency, email=order.email, lines=wanted,
                             location_id=order.location_id if order.location_id != actor.location_id else None)
    return cart, answered
