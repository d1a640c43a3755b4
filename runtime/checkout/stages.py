"""The core's checkout stages: pricing (100), shipping (300), order creation (800); tenders
(``runtime.tenders``) authorise at 700 and record the payment at 900.

Positions 200 (promotions) and 400 (tax) are left free for the issues that bring them; a stage
between two others needs no change to either.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Flask

from runtime.carts import lines as cart_lines
from runtime.carts import shipping
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.errors import as_checkout_errors
from runtime.checkout.pipeline import Checkout, Stage, register_stage
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.orders.drafts import OrderDraft, OrderLineDraft


def price(checkout: Checkout) -> None:
    """Price every line again with the cart row locked; apply and note any price that moved."""
    cart = checkout.cart
    checkout.variants = cart_lines.load_variants(checkout.session, ids=tuple({line.variant_id for line in checkout.lines}),
                                      channel_id=cart.channel_id, at=utcnow())
    checkout.price_context = cart_lines.price_context(checkout.session, checkout.actor, cart)
    was = {line.id: (line.unit_price, line.quantity) for line in checkout.lines}
    checkout.prices = cart_lines.reprice(checkout.session, cart, checkout.lines, checkout.variants,
                                         checkout.price_context, {})
    changed = [{"line_id": str(line.id), "sku": checkout.variants[line.variant_id][0].sku,
                "was": _amount(checkout, was[line.id][0]), "now": _amount(checkout, line.unit_price)}
               for line in checkout.lines if line.unit_price != was[line.id][0]]
    checkout.note("pricing", changed=changed)
    if changed:
        checkout.session.add_all(checkout.lines)


def _amount(checkout: Checkout, value: Decimal) -> str:
    return format(checkout.money(value).amount, "f")


def ship(checkout: Checkout) -> None:
    """The chosen method must still be offered for the address and (re-priced) subtotal."""
    cart = checkout.cart
    chosen = shipping.find(shipping.quote(checkout.session, cart), cart.shipping_method["code"])
    if chosen is None:
        raise BusinessError(Code.SHIPPING_METHOD_UNAVAILABLE,
                            f"cartId: shipping method {cart.shipping_method['code']!r} is no longer offered for this "
                            "cart; choose another", field="cartId")
    if chosen["amount"] != cart.shipping_method["amount"]:
        checkout.note("shipping", was=cart.shipping_method["amount"], now=chosen["amount"])
    cart.shipping_method = chosen
    checkout.shipping_total = checkout.money(chosen["amount"])
    cart.shipping_total = checkout.shipping_total.amount
    cart.total = checkout.total.amount


def create(checkout: Checkout) -> None:
    """Write the order from the draft (state ``placed``, with its lines and history)."""
    from runtime.orders.service import create_order

    checkout.draft = draft(checkout)
    checkout.order = create_order(checkout.session, checkout.draft, checkout.actor)


def draft(checkout: Checkout) -> OrderDraft:
    cart, currency = checkout.cart, checkout.cart.currency
    lines = []
    for line in checkout.lines:
        variant, product = checkout.variants[line.variant_id]
        lines.append(OrderLineDraft(variant_id=line.variant_id, sku=variant.sku, product_name=product.name,
                                    variant_name=variant.name, quantity=line.quantity,
                                    price=cart_lines.line_price(line, checkout.prices[line.variant_id]),
                                    package_slug=line.package_slug, package_multiplier=line.package_multiplier))
    zero = checkout.money(0)
    return OrderDraft(
        channel_id=cart.channel_id, currency=currency, base_currency=checkout.base_currency,
        exchange_rate=exchange_rate(checkout), lines=lines, subtotal=checkout.subtotal,
        shipping_total=checkout.shipping_total or zero, discount_total=checkout.discount_total or zero,
        tax_total=checkout.tax_total or zero, total=checkout.total, email=cart.email, user_id=cart.user_id,
        customer_id=cart.customer_id, account_id=cart.account_id, location_id=cart.location_id, cart_id=cart.id,
        idempotency_key=checkout.idempotency_key, created_by=checkout.created_by,
        shipping_address=cart.shipping_address, billing_address=cart.billing_address,
        shipping_method=cart.shipping_method, pipeline=checkout.notes)


def exchange_rate(checkout: Checkout) -> Decimal:
    """``total × rate = base_total``: 1 in the base currency, else the rate valid now."""
    from runtime.channels.rates import rate_at

    currency, base = checkout.cart.currency, checkout.base_currency
    if currency == base:
        return Decimal(1)
    direct = rate_at(checkout.session, currency, base)
    if direct is not None:
        return direct.rate
    inverse = rate_at(checkout.session, base, currency)
    if inverse is not None:
        return Decimal(1) / inverse.rate
    raise BusinessError(Code.NO_EXCHANGE_RATE, f"cartId: no exchange rate from {currency} to the base currency {base}",
                        field="cartId")


CORE_STAGES = (
    Stage("pricing", 100, price, "Re-price every line with the cart locked; note changed prices."),
    Stage("shipping", 300, ship, "Quote again; the chosen shipping method must still be offered."),
    Stage("order", 800, create, "Create the order from the draft."),
)


def register_core_stages(app: Flask) -> None:
    for stage in CORE_STAGES:
        register_stage(app, stage)
