"""GraphQL of promotions: cart discounts and explain, coupons, order discount lines, staff
queries. A cart is priced once per request (the same :func:`service.price_cart` placeOrder uses)."""
from __future__ import annotations

from decimal import Decimal

from ariadne import MutationType, ObjectType, QueryType
from sqlalchemy import select

from runtime.carts import lines as cart_lines
from runtime.carts import totals
from runtime.carts.models import Cart, CartLine
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import money
from runtime.money import Money
from runtime.orders.models import Order, OrderLine
from runtime.pricing.types import Price
from runtime.promotions import catalog, coupons, service
from runtime.promotions.coupons import PromotionErrorCode
from runtime.promotions.live import check_stale, live_promotions
from runtime.promotions.models import OrderDiscount

query = QueryType()
mutation = MutationType()
cart_type = ObjectType("Cart")
line_type = ObjectType("CartLine")
order_type = ObjectType("Order")
price_type = ObjectType("VariantPrice")
CACHE = "vectis.promotions"
#: Who sees promotion names and explains.
STAFF = "promotions.read"
#: Most codes one promotionCoupons page returns.
PAGE_MAX = 1000


def _live(info):
    """The live promotions, taken once per request (every price and cart field asks)."""
    cache = info.context.__dict__.setdefault(CACHE, {})
    if "live" not in cache:
        cache["live"] = live_promotions(context_of(info).app)
    return cache["live"]


def _priced(info, cart: Cart) -> service.Priced:
    cache = info.context.__dict__.setdefault(CACHE, {})
    if cart.id not in cache:
        ctx = context_of(info)
        if not len(_live(info).promotions):  # no promotion: nothing to read
            cache[cart.id] = (service.empty(cart.currency), cart)
            return cache[cart.id][0]
        with ctx.reads() as session:
            lines = cart_lines.cart_lines(session, cart)
            cache[cart.id] = (service.price_cart(session, ctx.app, cart, lines), cart)
    return cache[cart.id][0]


def _money(amount: Decimal, currency: str) -> dict:
    return money(Money(amount, currency))


def _discount(priced: service.Priced, outcome, amount: Decimal) -> dict:
    return {"label": priced.message(outcome.name), "phase": outcome.phase, "amount": _money(amount, priced.currency),
            "coupon_code": outcome.coupon}


@cart_type.field("discountTotal")
def resolve_discount_total(cart: Cart, info):
    return _money(_priced(info, cart).total, cart.currency)


def _discount_adjustment(cart: Cart, info) -> Decimal:
    """Stage 200's share of the cart's total: minus its discounts."""
    return -_priced(info, cart).total


totals.register_adjustment("promotions", 200, _discount_adjustment)


@cart_type.field("discounts")
def resolve_discounts(cart: Cart, info):
    priced = _priced(info, cart)
    return [_discount(priced, o, o.amount) for o in priced.result.applied]


@cart_type.field("couponCodes")
def resolve_coupon_codes(cart: Cart, info):
    with context_of(info).reads() as session:
        return service.cart_codes(session, cart.id)


@cart_type.field("promotionExplain")
def resolve_explain(cart: Cart, info):
    context_of(info).require(STAFF)
    priced = _priced(info, cart)
    return [{"promotion": o.name, "revision": priced.revision(o.name), "phase": o.phase, "applied": o.applied,
             "amount": _money(o.amount, cart.currency), "reason": o.reason, "detail": o.detail or None,
             "failed_conditions": [{"condition": f.condition, "actual": _plain(f.actual)} for f in o.failures],
             "coupon_code": o.coupon} for o in priced.result.outcomes]


def _plain(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    return "MISSING" if repr(value) == "MISSING" else value


def _line_cart(info, line: CartLine) -> Cart | None:
    carts = info.context.__dict__.get("vectis.carts", {}).get("carts", {})
    cart = carts.get(line.cart_id)
    if cart is None:
        with context_of(info).reads() as session:
            cart = session.get(Cart, line.cart_id)
    return cart


@line_type.field("discount")
def resolve_line_discount(line: CartLine, info):
    cart = _line_cart(info, line)
    return _money(_priced(info, cart).line_discount(line.id), cart.currency)


@line_type.field("discounts")
def resolve_line_discounts(line: CartLine, info):
    cart = _line_cart(info, line)
    priced = _priced(info, cart)
    return [_discount(priced, o, amount) for o, amount in priced.result.line_discounts(str(line.id))]


def _order_discounts(info, order: Order) -> list:
    """The discount lines of ``order``, loaded at once for every order the request has seen."""
    loaded = info.context.__dict__.setdefault(CACHE, {}).setdefault("order_discounts", {})
    if order.id not in loaded:
        seen = info.context.__dict__.get("vectis.orders", {}).get("orders", {})
        ids = sorted({order.id, *(i for i in seen if i not in loaded)})
        loaded.update({i: [] for i in ids})
        with context_of(info).reads() as session:
            rows = session.execute(select(OrderDiscount, OrderLine.sku).outerjoin(
                OrderLine, OrderLine.id == OrderDiscount.order_line_id).where(OrderDiscount.order_id.in_(ids))
                .order_by(OrderDiscount.id)).all()
        for discount, sku in rows:
            loaded[discount.order_id].append((discount, sku))
    return loaded[order.id]


@order_type.field("discounts")
def resolve_order_discounts(order: Order, info):
    staff = context_of(info).actor.has("orders.read")
    return [{"kind": d.kind, "sku": sku, "label": d.label, "phase": d.phase, "amount": _money(d.amount, d.currency),
             "coupon_code": d.coupon_code, "promotion": d.promotion_name if staff else None,
             "revision": d.promotion_revision if staff else None} for d, sku in _order_discounts(info, order)]


@query.field("promotions")
def resolve_promotions(_, info):
    ctx = context_of(info)
    ctx.require(STAFF)
    live = live_promotions(ctx.app)
    with ctx.reads() as session:
        stale = check_stale(session, ctx.app, live)
    found = [{"name": p.name, "revision": live.revisions[p.name], "phase": p.phase, "stale": p.name in stale,
              "stale_reason": stale.get(p.name)} for p in live.promotions.promotions]
    found += [{"name": name, "revision": 0, "phase": "", "stale": True, "stale_reason": stale.get(name)}
              for name in sorted(live.broken)]
    return sorted(found, key=lambda p: p["name"])


@query.field("promotionCoupons")
def resolve_promotion_coupons(_, info, promotion: str, first: int = 100, after: str | None = None):
    ctx = context_of(info)
    ctx.require(STAFF)
    try:
        if not 1 <= first <= PAGE_MAX:
            raise BusinessError(PromotionErrorCode.INVALID_INPUT, f"first: expected 1 to {PAGE_MAX}, got {first}",
                                field="first")
        with ctx.reads() as session:
            nodes, total, more = coupons.list_codes(session, ctx.app, promotion, first=first, after=after)
    except BusinessError as exc:
        raise query_error(info, exc) from None
    return {"nodes": nodes, "total_count": total, "end_cursor": nodes[-1]["code"] if nodes and more else None}


@query.field("promotionCouponsCsv")
def resolve_promotion_coupons_csv(_, info, promotion: str):
    ctx = context_of(info)
    ctx.require("promotions.manage")
    try:
        with ctx.reads() as session:
            return coupons.export_csv(session, ctx.app, promotion)
    except BusinessError as exc:
        raise query_error(info, exc) from None


def _cart_answer(info, work) -> dict:
    ctx = context_of(info)
    cart = ctx.db.run(lambda session: work(session, ctx))
    info.context.__dict__.setdefault("vectis.carts", {"carts": {}, "lines": {}, "variants": {}})["carts"][cart.id] = cart
    return {"cart": cart}


@mutation.field("applyCartCoupon")
@payload
def resolve_apply_coupon(_, info, cart_id: str, code: str):
    return _cart_answer(info, lambda session, ctx: coupons.apply_coupon(session, ctx.app, ctx.actor, cart_id, code))


@mutation.field("removeCartCoupon")
@payload
def resolve_remove_coupon(_, info, cart_id: str, code: str):
    return _cart_answer(info, lambda session, ctx: coupons.remove_coupon(session, ctx.actor, cart_id, code))


@mutation.field("generatePromotionCoupons")
@payload
def resolve_generate(_, info, promotion: str, count: int, prefix: str | None = None, pattern: str | None = None):
    ctx = context_of(info)
    ctx.require("promotions.manage")
    batch, codes = ctx.db.run(lambda session: coupons.generate(session, ctx.app, ctx.actor, promotion, count,
                                                               prefix=prefix, pattern=pattern))
    return {"batch": batch, "codes": codes}


def _catalog(info, price: Price) -> tuple[Decimal, list[str]]:
    """This request's catalog discounts, computed once for every price the request has made so
    far (the pricing module's per-request batch), then for any price it makes later."""
    ctx = context_of(info)
    key = (price.variant_id, price.quantity, price.unit_price.currency)
    live = _live(info)
    if "catalog" not in live.phases:
        return price.unit_price.amount, []
    cache = info.context.__dict__.setdefault(CACHE, {}).setdefault("catalog", {})
    if key not in cache:
        batches = info.context.__dict__.get("vectis.pricing", {}).get("prices", {}).values()
        pending = {(p.variant_id, p.quantity, p.unit_price.currency): p for batch in batches
                   for p in batch["prices"].values()}
        pending[key] = price
        wanted = [p for k, p in pending.items() if k not in cache]
        with ctx.reads() as session:
            cache.update(catalog.discounted(session, ctx.app, wanted, channel=ctx.channel, actor=ctx.actor, live=live))
    return cache[key]


@price_type.field("discountedUnitPrice")
def resolve_discounted_unit_price(price: Price, info):
    return _money(_catalog(info, price)[0], price.unit_price.currency)


@price_type.field("promotionLabel")
def resolve_promotion_label(price: Price, info):
    names = _catalog(info, price)[1]
    return _live(info).message(names[0]) if names else None


@price_type.field("promotions")
def resolve_price_promotions(price: Price, info):
    return _catalog(info, price)[1] if context_of(info).actor.has(STAFF) else []


bindables = [query, mutation, cart_type, line_type, order_type, price_type]
__all__ = ["PromotionErrorCode", "bindables"]
