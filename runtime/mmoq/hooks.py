"""Where caps are enforced: a cart check (position 100) on every line change, and a checkout
stage (position 150, after pricing) inside placeOrder's transaction."""
from __future__ import annotations

from flask import current_app

from runtime.carts import lines as cart_lines
from runtime.carts.checks import CartChange
from runtime.checkout.pipeline import Checkout
from runtime.clock import utcnow
from runtime.mmoq import enforce
from runtime.mmoq.facts import customer_of

CHECK_POSITION = 100
STAGE_POSITION = 150


def check_cart(change: CartChange) -> None:
    """The changed variants' totals (all their lines) must keep within their caps. Removing a
    line is never refused: placeOrder checks the whole cart again."""
    if change.change == "line_removed":
        return
    base = cart_lines.base_quantities(change.lines)
    if change.variant_ids is not None:
        base = {variant_id: total for variant_id, total in base.items() if variant_id in change.variant_ids}
    if not base:
        return
    session, cart = change.session, change.cart
    variants = cart_lines.load_variants(session, ids=tuple(base), channel_id=cart.channel_id, at=utcnow())
    base = {variant_id: total for variant_id, total in base.items() if variant_id in variants}
    if not enforce.anything_to_check(current_app, variants, base):
        return
    group = cart_lines.price_context(session, change.actor, cart).customer_group_id
    found = enforce.check(current_app, session, customer_of(session, cart, group), variants, base, cart_id=cart.id)
    enforce.refuse(found, "lines")


def check_checkout(checkout: Checkout) -> None:
    """Every variant of the cart, with the customer's row locked for the 30-day window."""
    session, cart = checkout.session, checkout.cart
    base = cart_lines.base_quantities(checkout.lines)
    if not enforce.anything_to_check(current_app, checkout.variants, base):
        return
    group = checkout.price_context.customer_group_id if checkout.price_context else None
    found = enforce.check(current_app, session, customer_of(session, cart, group, checkout.channel), checkout.variants,
                          base, cart_id=cart.id, lock=True)
    enforce.refuse(found, "cartId")
