"""GraphQL of tax: the cart's tax and its explain, an order's tax lines, a channel's settings.
A cart is taxed once per request, on the same lines and discounts stage 400 uses."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from ariadne import MutationType, ObjectType
from sqlmodel import select

from runtime.carts import lines as cart_lines
from runtime.carts import totals
from runtime.carts.models import Cart
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.graphql.values import money
from runtime.money import Money
from runtime.orders.models import Order, OrderLine
from runtime.promotions import service as promotions
from runtime.tax import service
from runtime.tax.models import OrderTaxLine
from runtime.tax.stage import quote_cart

mutation = MutationType()
cart_type = ObjectType("Cart")
order_type = ObjectType("Order")
channel_type = ObjectType("Channel")
CACHE = "vectis.tax"
ORDERS_CACHE = "vectis.tax.orders"


def _quote(info, cart: Cart) -> service.TaxQuote:
    cache = info.context.__dict__.setdefault(CACHE, {})
    if cart.id not in cache:
        ctx = context_of(info)
        with ctx.reads() as session:
            lines = cart_lines.cart_lines(session, cart)
            variants = cart_lines.load_variants(session, ids=tuple({line.variant_id for line in lines}),
                                                channel_id=cart.channel_id, at=utcnow()) if lines else {}
            priced = promotions.price_cart(session, ctx.app, cart, lines) if lines else None
            shipping = Decimal(cart.shipping_total) if cart.shipping_method else None
            cache[cart.id] = quote_cart(session, cart, lines, variants, priced, shipping)
    return cache[cart.id]


@cart_type.field("taxTotal")
def resolve_tax_total(cart: Cart, info):
    try:
        return money(_quote(info, cart).total)
    except BusinessError:  # an address the tables cannot place: placeOrder says why
        return money(Money.zero(cart.currency))


def _tax_adjustment(cart: Cart, info) -> Decimal:
    """Stage 400's share of the cart's total: the tax, unless the prices already include it."""
    try:
        quote = _quote(info, cart)
    except BusinessError:  # as taxTotal
        return Decimal(0)
    return Decimal(0) if quote.inclusive else quote.total.amount


totals.register_adjustment("tax", 400, _tax_adjustment)


@cart_type.field("taxExplain")
def resolve_tax_explain(cart: Cart, info):
    try:
        quote = _quote(info, cart)
    except BusinessError:  # as taxTotal: placeOrder names the address field at fault
        return []
    by_line = defaultdict(list)
    for tax in quote.result.lines:
        by_line[tax.line_id].append(tax)
    return [{"line_id": line_id, "tax_class": taxes[0].tax_class, "rule": taxes[0].rule,
             "taxes": [_applied(t, quote.currency) for t in taxes]} for line_id, taxes in by_line.items()]


def _applied(tax, currency: str) -> dict:
    return {"jurisdiction": tax.jurisdiction, "level": tax.level, "rate": format(tax.rate, "f"), "stage": tax.stage,
            "compound": tax.compound, "excise_unit": tax.excise_unit, "base": format(tax.base, "f"),
            "amount": money(Money(tax.amount, currency))}


def _order_tax_lines(info, order: Order) -> list:
    """The tax lines of ``order``, loaded at once for every order the request has seen."""
    loaded = info.context.__dict__.setdefault(ORDERS_CACHE, {})
    if order.id not in loaded:
        seen = info.context.__dict__.get("vectis.orders", {}).get("orders", {})
        ids = sorted({order.id, *(i for i in seen if i not in loaded)})
        loaded.update({i: [] for i in ids})
        with context_of(info).reads() as session:
            rows = session.execute(select(OrderTaxLine, OrderLine.sku).outerjoin(
                OrderLine, OrderLine.id == OrderTaxLine.order_line_id).where(OrderTaxLine.order_id.in_(ids))
                .order_by(OrderTaxLine.id)).all()
        for row, sku in rows:
            loaded[row.order_id].append((row, sku))
    return loaded[order.id]


@order_type.field("taxLines")
def resolve_tax_lines(order: Order, info):
    return [{"kind": row.kind, "sku": sku, "jurisdiction": row.jurisdiction, "level": row.level,
             "rate": format(row.rate, "f"), "stage": row.stage, "tax_class": row.tax_class, "compound": row.compound,
             "base": format(row.base, "f"), "amount": money(Money(row.amount, row.currency)), "rule": row.rule,
             "provider": row.provider} for row, sku in _order_tax_lines(info, order)]


def _settings(row) -> dict:
    return {"prices_include_tax": row.prices_include_tax, "rounding": row.rounding,
            "failure_policy": row.failure_policy, "seller_country": row.seller_country}


@channel_type.field("taxSettings")
def resolve_channel_tax_settings(channel: Channel, info):
    with context_of(info).reads() as session:
        return _settings(service.channel_settings(session, channel.id))


@mutation.field("setChannelTaxSettings")
@payload
def resolve_set_tax_settings(_, info, channel_slug: str, prices_include_tax: bool | None = None,
                             rounding: str | None = None, failure_policy: str | None = None,
                             seller_country: str | None = None):
    ctx = context_of(info)
    ctx.require("channels.manage")

    def work(session):
        channel = session.exec(select(Channel).where(Channel.slug == channel_slug)).first()
        if channel is None:
            raise BusinessError(service.TaxErrorCode.NOT_FOUND, f"channelSlug: no channel {channel_slug!r}",
                                field="channelSlug")
        return _settings(service.set_channel_settings(
            session, channel.id, prices_include_tax=prices_include_tax, rounding=rounding,
            failure_policy=failure_policy, seller_country=seller_country))

    return {"tax_settings": ctx.db.run(work)}


bindables = [mutation, cart_type, order_type, channel_type]
