"""GraphQL resolvers of carts. Each mutation is one ``db.run`` transaction; list fields load in
bulk per request (the lines of every cart the request returned, then their variants at once)."""
from __future__ import annotations

from types import SimpleNamespace

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.carts import service
from runtime.carts.totals import cart_total
from runtime.carts.errors import CheckoutErrorCode
from runtime.carts.models import Cart, CartLine
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.graphql.values import money
from runtime.money import Money

query = QueryType()
mutation = MutationType()
cart_type = ObjectType("Cart")
line_type = ObjectType("CartLine")
method_type = ObjectType("ShippingMethod")
payment_type = ObjectType("CartPayment")
CACHE = "vectis.carts"


def cache(info) -> dict:
    return info.context.__dict__.setdefault(CACHE, {"carts": {}, "lines": {}, "variants": {}})


def remember(info, *carts: Cart) -> None:
    """Carts this request answers with: their lines are loaded together when first asked for."""
    cache(info)["carts"].update({cart.id: cart for cart in carts})


@query.field("cart")
def resolve_cart(_, info, id: str):
    ctx = context_of(info)
    with ctx.reads() as session:
        try:
            cart = service.load_cart(session, ctx.actor, id)
        except BusinessError:
            return None
    remember(info, cart)
    return cart


@query.field("myCarts")
def resolve_my_carts(_, info):
    ctx = context_of(info)
    with ctx.reads() as session:
        carts = service.my_carts(session, ctx.actor)
    remember(info, *carts)
    return carts


def _answer(info, work) -> dict:
    ctx = context_of(info)
    cart = ctx.db.run(lambda session: work(session, ctx))
    remember(info, cart)
    return {"cart": cart}


@mutation.field("createCart")
@payload
def resolve_create_cart(_, info, input: dict):
    return _answer(info, lambda session, ctx: service.create_cart(
        session, ctx.actor, ctx.channel, currency=input.get("currency"), email=input.get("email"),
        lines=input.get("lines"), location_id=input.get("location_id")))


@mutation.field("addCartLines")
@payload
def resolve_add_lines(_, info, cart_id: str, lines: list):
    return _answer(info, lambda session, ctx: service.add_lines(session, ctx.actor, cart_id, lines))


@mutation.field("updateCartLine")
@payload
def resolve_update_line(_, info, cart_id: str, line_id: str, quantity: int):
    return _answer(info, lambda session, ctx: service.update_line(session, ctx.actor, cart_id, line_id, quantity))


@mutation.field("removeCartLine")
@payload
def resolve_remove_line(_, info, cart_id: str, line_id: str):
    return _answer(info, lambda session, ctx: service.remove_line(session, ctx.actor, cart_id, line_id))


@mutation.field("setCartEmail")
@payload
def resolve_set_email(_, info, cart_id: str, email: str):
    return _answer(info, lambda session, ctx: service.set_email(session, ctx.actor, cart_id, email))


@mutation.field("setCartShippingAddress")
@payload
def resolve_set_shipping_address(_, info, cart_id: str, input: dict):
    return _answer(info, lambda session, ctx: service.set_address(session, ctx.actor, cart_id, "shipping", input))


@mutation.field("setCartBillingAddress")
@payload
def resolve_set_billing_address(_, info, cart_id: str, input: dict):
    return _answer(info, lambda session, ctx: service.set_address(session, ctx.actor, cart_id, "billing", input))


@mutation.field("setCartShippingMethod")
@payload
def resolve_set_shipping_method(_, info, cart_id: str, code: str):
    return _answer(info, lambda session, ctx: service.set_shipping_method(session, ctx.actor, cart_id, code))


@mutation.field("setCartPayment")
@payload
def resolve_set_payment(_, info, cart_id: str, input: dict):
    return _answer(info, lambda session, ctx: service.set_payment(session, ctx.actor, cart_id, input, ctx.channel))


@cart_type.field("id")
def resolve_cart_id(cart: Cart, _info):
    return cart.token


@cart_type.field("channel")
def resolve_cart_channel(cart: Cart, info):
    ctx = context_of(info)
    channel = ctx.channel
    if channel is not None and channel.id == cart.channel_id:
        return channel
    from runtime.channels.models import Channel

    with ctx.reads() as session:
        return session.get(Channel, cart.channel_id)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _money_field(name: str):
    def resolve(row, info):
        currency = row.currency if isinstance(row, Cart) else cache(info)["currency"][row.cart_id]
        return money(Money(getattr(row, name), currency))
    return resolve


for _name in ("subtotal", "shippingTotal"):
    cart_type.set_field(_name, _money_field(_snake(_name)))


@cart_type.field("total")
def resolve_total(cart: Cart, info):
    """Subtotal + shipping + the registered adjustments (discounts, exclusive tax): what
    placeOrder would charge now."""
    return money(Money(cart_total(cart, info), cart.currency))


@cart_type.field("lines")
def resolve_lines(cart: Cart, info):
    found = cache(info)
    if cart.id not in found["lines"]:
        remember(info, cart)
        pending = [cart_id for cart_id in found["carts"] if cart_id not in found["lines"]]
        with context_of(info).reads() as session:
            rows = session.exec(select(CartLine).where(CartLine.cart_id.in_(pending)).order_by(CartLine.id)).all()
        for cart_id in pending:
            found["lines"][cart_id] = []
        for row in rows:
            found["lines"][row.cart_id].append(row)
        found.setdefault("currency", {}).update({c.id: c.currency for c in found["carts"].values()})
    return found["lines"][cart.id]


@cart_type.field("shippingAddress")
def resolve_shipping_address(cart: Cart, _info):
    return _address(cart.shipping_address)


@cart_type.field("billingAddress")
def resolve_billing_address(cart: Cart, _info):
    return _address(cart.billing_address)


def _address(snapshot: dict | None):
    if not snapshot:
        return None
    # An object, not a dict: the accounts module's Address resolvers read attributes.
    return SimpleNamespace(**{**snapshot, "is_default_shipping": False, "is_default_billing": False})


@cart_type.field("availableShippingMethods")
def resolve_available_methods(cart: Cart, info):
    from runtime.carts import shipping
    from runtime.channels.providers import providers

    if not cart.shipping_address:
        return []
    configured = cache(info).setdefault("providers", {})
    with context_of(info).reads() as session:
        if cart.channel_id not in configured:  # one query per channel and request, not per cart
            configured[cart.channel_id] = providers(session, cart.channel_id, shipping.SLOT)
        rates = shipping.quote(session, cart, configured=configured[cart.channel_id])
    return [{**rate, "currency": cart.currency} for rate in rates]


@cart_type.field("shippingMethod")
def resolve_shipping_method(cart: Cart, _info):
    return {**cart.shipping_method, "currency": cart.currency} if cart.shipping_method else None


@method_type.field("amount")
def resolve_method_amount(method: dict, _info):
    return money(Money(method["amount"], method["currency"]))


@payment_type.field("savedPaymentMethodId")
def resolve_saved_method(payment: dict, _info):
    saved = payment.get("saved_payment_method_id")
    return None if saved is None else str(saved)


@cart_type.field("account")
def resolve_account(cart: Cart, info):
    return _get(info, "Account", cart.account_id)


@cart_type.field("location")
def resolve_location(cart: Cart, info):
    return _get(info, "Location", cart.location_id)


def _get(info, model_name: str, row_id: int | None):
    """An account or location, once per request (a location's carts share it)."""
    if row_id is None:
        return None
    found = cache(info).setdefault(model_name, {})
    if row_id not in found:
        from runtime.accounts import models

        with context_of(info).reads() as session:
            found[row_id] = session.get(getattr(models, model_name), row_id)
    return found[row_id]


@line_type.field("variant")
def resolve_line_variant(line: CartLine, info):
    found = cache(info)
    if line.variant_id not in found["variants"]:
        from runtime.catalog.models import ProductVariant

        wanted = {row.variant_id for rows in found["lines"].values() for row in rows} | {line.variant_id}
        wanted -= set(found["variants"])
        with context_of(info).reads() as session:
            rows = session.exec(select(ProductVariant).where(ProductVariant.id.in_(wanted))).all()
        found["variants"].update({row.id: row for row in rows})
    return found["variants"][line.variant_id]


for _name in ("unitPrice", "lineTotal"):
    line_type.set_field(_name, _money_field(_snake(_name)))
line_type.set_alias("package", "package_slug")


bindables = [query, mutation, cart_type, line_type, method_type, payment_type]

__all__ = ["bindables", "CheckoutErrorCode"]
