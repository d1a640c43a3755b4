"""Carts: create, change lines, addresses, shipping and payment. Each function runs inside the
caller's transaction (one ``db.run`` per mutation) and raises before writing when it refuses.

Ownership: a cart with a ``user_id`` belongs to that user; a B2B cart also to the employees of
its location; a location cart a staff member built (``adminCreateOrder``) to staff; a guest cart
to whoever holds its token (``Cart.id`` in the API). Staff with ``orders.read`` see every cart.
Anyone else gets NOT_FOUND, exactly as for a token that does not exist.
"""
from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines_
from runtime.carts import shipping
from runtime.carts.checks import CartChange, run_checks
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.errors import as_checkout_errors
from runtime.carts.models import Cart, CartLine
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.events import emit
from runtime.money import Money

#: Bytes of randomness in a cart token (43 URL-safe characters).
TOKEN_BYTES = 32
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 254
STAFF_READ = "orders.read"
STAFF_CREATE = "orders.create"


def can_see(actor: Actor, cart: Cart) -> bool:
    if actor.has(STAFF_READ):
        return True
    if cart.user_id is not None and actor.user_id == cart.user_id:
        return True
    if cart.location_id is not None:
        return actor.location_id == cart.location_id or (cart.user_id is None and actor.has(STAFF_CREATE))
    return cart.user_id is None  # a guest cart: its token is the proof


def load_cart(session: Session, actor: Actor, token: str, *, lock: bool = False, field: str = "cartId") -> Cart:
    """The cart ``token`` names if ``actor`` may see it (``lock``: ``SELECT … FOR UPDATE``, which
    every change takes, so two changes of one cart never lose each other's update)."""
    statement = select(Cart).where(Cart.token == str(token))
    cart = session.exec(statement.with_for_update() if lock else statement).first()
    if cart is None or not can_see(actor, cart):
        raise BusinessError(Code.NOT_FOUND, f"{field}: no cart {token!r}", field=field)
    return cart


def require_active(cart: Cart, field: str = "cartId") -> None:
    if cart.state != "active":
        raise BusinessError(Code.CART_NOT_ACTIVE, f"{field}: the cart is {cart.state}, only an active cart can change",
                            field=field)


def _touch(session: Session, cart: Cart, change: str) -> Cart:
    cart.version += 1
    cart.updated_at = utcnow()
    session.add(cart)
    session.flush()
    emit(session, "cart.updated", {**_event_ids(cart), "change": change, "subtotal": format(cart.subtotal, "f"),
                                   "currency": cart.currency, "lines": cart.item_count, "version": cart.version},
         key=f"cart:{cart.id}")
    return cart


def _checked(session: Session, actor: Actor, cart: Cart, lines: list[CartLine], change: str,
             variant_ids: set[int] | None = None) -> Cart:
    """The registered cart checks (``runtime.carts.checks``) on the changed lines, then the touch."""
    session.flush()
    run_checks(CartChange(session, actor, cart, lines, change, frozenset(variant_ids) if variant_ids is not None else None))
    return _touch(session, cart, change)


def _event_ids(cart: Cart) -> dict[str, str]:
    ids = {"cart_id": str(cart.id), "channel_id": str(cart.channel_id)}
    for name in ("account_id", "customer_id", "location_id"):
        if getattr(cart, name) is not None:
            ids[name] = str(getattr(cart, name))
    return ids


def _owner(session: Session, actor: Actor, location_id: Any) -> dict[str, Any]:
    """The new cart's owner columns: the buyer, or a location staff buys for (``locationId``)."""
    if location_id is None or (actor.location_id is not None and str(location_id) == str(actor.location_id)):
        return {"user_id": actor.user_id, "customer_id": actor.customer_id, "account_id": actor.account_id,
                "location_id": actor.location_id}
    from runtime.accounts.models import Location

    location = None
    if actor.has(STAFF_CREATE):
        location = session.get(Location, cart_lines_.parse_id(location_id, "input.locationId"))
    if location is None:
        raise BusinessError(Code.NOT_FOUND, f"input.locationId: no location {location_id!r}", field="input.locationId")
    return {"user_id": None, "customer_id": None, "account_id": location.account_id, "location_id": location.id}


def check_email(email: Any, field: str) -> str:
    value = email.strip() if isinstance(email, str) else ""
    if not EMAIL.match(value) or len(value) > EMAIL_MAX:
        raise BusinessError(Code.INVALID_EMAIL, f"{field}: expected an e-mail address like buyer@example.com, got {email!r}",
                            field=field)
    return value


def create_cart(session: Session, actor: Actor, channel: Channel | None, *, currency: str | None = None,
                email: str | None = None, lines: list[dict] | None = None, location_id: Any = None) -> Cart:
    """A new active cart in ``channel`` (the request's), owned by ``actor`` (or a guest)."""
    if channel is None:
        raise BusinessError(Code.CHANNEL_REQUIRED, "X-Channel-Slug: name the channel the cart sells in (there is no "
                            "default channel)", field="X-Channel-Slug")
    currency = currency or channel.default_currency
    if currency not in channel.currencies:
        raise BusinessError(Code.UNSUPPORTED_CURRENCY, f"input.currency: channel {channel.slug!r} does not sell in "
                            f"{currency} (supported: {', '.join(channel.currencies)})", field="input.currency")
    email = check_email(email, "input.email") if email is not None else None
    now = utcnow()
    cart = Cart(token=secrets.token_urlsafe(TOKEN_BYTES), channel_id=channel.id, currency=currency, email=email,
                state="active", state_entered_at=now, created_at=now, updated_at=now,
                **_owner(session, actor, location_id))
    merged: list[CartLine] = []
    if lines:  # priced before the cart is inserted, so its totals go in with it
        requests, variants = cart_lines_.resolve_line_inputs(session, cart, lines, "input.lines", set())
        merged, fields = cart_lines_.merge(cart, [], requests)
        cart_lines_.reprice(session, cart, merged, variants, cart_lines_.price_context(session, actor, cart), fields)
    session.add(cart)
    session.flush()
    for line in merged:
        line.cart_id = cart.id
    session.add_all(merged)
    if merged:
        session.flush()
        run_checks(CartChange(session, actor, cart, merged, "created"))
    emit(session, "cart.created", {**_event_ids(cart), "currency": cart.currency}, key=f"cart:{cart.id}")
    return cart


def _reprice(session: Session, actor: Actor, cart: Cart, lines: list[CartLine], variants: dict, fields: dict) -> None:
    cart_lines_.reprice(session, cart, lines, variants, cart_lines_.price_context(session, actor, cart), fields)
    if cart.shipping_method:
        _requote(session, cart)


def _requote(session: Session, cart: Cart) -> None:
    """Keep the chosen shipping method priced for the new subtotal; drop it if no longer offered."""
    chosen = shipping.find(shipping.quote(session, cart), cart.shipping_method["code"])
    cart.shipping_method = chosen
    cart.shipping_total = Money(chosen["amount"], cart.currency).amount if chosen else Decimal(0)
    cart.total = (Money(cart.subtotal, cart.currency) + Money(cart.shipping_total, cart.currency)).amount


def add_lines(session: Session, actor: Actor, token: str, lines: list[dict]) -> Cart:
    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    current = cart_lines_.cart_lines(session, cart)
    requests, variants = cart_lines_.resolve_line_inputs(session, cart, lines, "lines", {l.variant_id for l in current})
    merged, fields = cart_lines_.merge(cart, current, requests)
    _reprice(session, actor, cart, merged, variants, fields)
    session.add_all(merged)
    return _checked(session, actor, cart, merged, "line_added", {request.variant_id for request in requests})


def _line(current: list[CartLine], line_id: Any) -> CartLine:
    wanted = cart_lines_.parse_id(line_id, "lineId")
    line = next((line for line in current if line.id == wanted), None)
    if line is None:
        raise BusinessError(Code.NOT_FOUND, f"lineId: the cart has no line {line_id!r}", field="lineId")
    return line


def update_line(session: Session, actor: Actor, token: str, line_id: Any, quantity: int) -> Cart:
    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    problem = cart_lines_.check_quantity(quantity, "quantity")
    if problem:
        raise problem
    current = cart_lines_.cart_lines(session, cart)
    line = _line(current, line_id)
    line.quantity = quantity
    variants = _variants_of(session, cart, current)
    _reprice(session, actor, cart, current, variants, {line.variant_id: "quantity"})
    session.add_all(current)
    return _checked(session, actor, cart, current, "line_updated", {line.variant_id})


def remove_line(session: Session, actor: Actor, token: str, line_id: Any) -> Cart:
    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    current = cart_lines_.cart_lines(session, cart)
    line = _line(current, line_id)
    current.remove(line)
    session.delete(line)
    _reprice(session, actor, cart, current, _variants_of(session, cart, current), {})
    session.add_all(current)
    return _checked(session, actor, cart, current, "line_removed", {line.variant_id})


def remove_lines(session: Session, actor: Actor, cart: Cart, lines: list[CartLine], change: str = "line_removed") -> Cart:
    """Remove ``lines`` (of the locked, active ``cart``) in one change: one re-pricing, one run of
    the cart checks (holds follow), one ``cart.updated``."""
    current = [line for line in cart_lines_.cart_lines(session, cart) if line.id not in {l.id for l in lines}]
    for line in lines:
        session.delete(line)
    _reprice(session, actor, cart, current, _variants_of(session, cart, current), {})
    session.add_all(current)
    return _checked(session, actor, cart, current, change, {line.variant_id for line in lines})


def _variants_of(session: Session, cart: Cart, current: list[CartLine]) -> dict:
    if not current:
        return {}
    _requests, variants = cart_lines_.resolve_line_inputs(session, cart, [], "lines", {l.variant_id for l in current})
    return variants


def set_email(session: Session, actor: Actor, token: str, email: str) -> Cart:
    value = check_email(email, "email")
    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    cart.email = value
    return _touch(session, cart, "email")


def address_from_input(session: Session, actor: Actor, cart: Cart, value: dict, field: str) -> dict[str, Any]:
    """An address snapshot from ``CartAddressInput``: a saved address of the buyer (or of the
    cart's location, for staff), or a typed-in one (validated; its ``id`` is ``"0"``)."""
    from runtime.accounts import ownership

    address_id, typed = value.get("address_id"), value.get("address")
    if (address_id is None) == (typed is None):
        raise BusinessError(Code.INVALID_INPUT, f"{field}: give either addressId or address, exactly one", field=field)
    try:
        if address_id is not None:
            if cart.user_id is None and cart.location_id is not None and actor.has(STAFF_CREATE):
                return location_address(session, cart.location_id, address_id, f"{field}.addressId")
            return snapshot(ownership.address_snapshot(session, actor, cart_lines_.parse_id(address_id, f"{field}.addressId")),
                            str(address_id))
        return snapshot(ownership.validate_address(typed, f"{field}.address"), "0")
    except (BusinessError, BusinessErrors) as exc:
        if isinstance(exc, BusinessError) and exc.code == Code.NOT_FOUND.value:
            raise BusinessError(Code.NOT_FOUND, f"{field}.addressId: no address {address_id!r}",
                                field=f"{field}.addressId") from None
        raise as_checkout_errors(exc, Code.INVALID_ADDRESS) from None


ADDRESS_FIELDS = ("first_name", "last_name", "company", "line1", "line2", "postal_code", "city", "region", "country",
                  "phone")


def snapshot(values: dict[str, Any], address_id: str) -> dict[str, Any]:
    """The copy a cart (and its order) keeps: every ``Address`` field, ``id`` the saved one's or "0"."""
    return {"id": address_id, **{name: (values.get(name) or "") for name in ADDRESS_FIELDS}}


def location_address(session: Session, location_id: int, address_id: Any, field: str) -> dict[str, Any]:
    from runtime.accounts.models import Address

    address = session.get(Address, cart_lines_.parse_id(address_id, field))
    if address is None or address.location_id != location_id:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no address {address_id!r} of the cart's location", field=field)
    return snapshot(address.model_dump(), str(address.id))


def set_address(session: Session, actor: Actor, token: str, kind: str, value: dict) -> Cart:
    """``kind``: ``shipping`` or ``billing``. A new shipping address re-quotes the chosen method."""
    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    address = address_from_input(session, actor, cart, value, "input")
    setattr(cart, f"{kind}_address", address)
    if kind == "shipping" and cart.shipping_method:
        _requote(session, cart)
    return _touch(session, cart, f"{kind}_address")


def set_shipping_method(session: Session, actor: Actor, token: str, code: str) -> Cart:
    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    if not cart.shipping_address:
        raise BusinessError(Code.MISSING_SHIPPING_ADDRESS, "code: set the shipping address first: rates depend on it",
                            field="code")
    rates = shipping.quote(session, cart)
    chosen = shipping.find(rates, code)
    if chosen is None:
        offered = ", ".join(rate["code"] for rate in rates) or "none"
        raise BusinessError(Code.SHIPPING_METHOD_UNAVAILABLE,
                            f"code: {code!r} is not offered for this cart (offered: {offered})", field="code")
    cart.shipping_method = chosen
    cart.shipping_total = Money(chosen["amount"], cart.currency).amount
    cart.total = (Money(cart.subtotal, cart.currency) + Money(cart.shipping_total, cart.currency)).amount
    return _touch(session, cart, "shipping_method")


def set_payment(session: Session, actor: Actor, token: str, value: dict, channel: Channel | None = None) -> Cart:
    """How the buyer pays: a gateway token or a saved payment method the buyer (or, for staff,
    the cart's account) may use, through the channel's gateway. Checked by the payments domain."""
    from runtime.payments.service import validate_payment_method

    cart = load_cart(session, actor, token, lock=True)
    require_active(cart)
    saved = value.get("saved_payment_method_id")
    saved_id = cart_lines_.parse_id(saved, "input.savedPaymentMethodId") if saved is not None else None
    if channel is None or channel.id != cart.channel_id:
        channel = session.get(Channel, cart.channel_id)
    try:
        cart.payment = validate_payment_method(session, actor, channel, token=value.get("token"),
                                               saved_payment_method_id=saved_id)
    except (BusinessError, BusinessErrors) as exc:
        raise as_checkout_errors(exc, Code.INVALID_INPUT) from None
    return _touch(session, cart, "payment_method")


def my_carts(session: Session, actor: Actor) -> list[Cart]:
    """The caller's active carts (an employee's: those of their location), newest first."""
    if actor.user_id is None:
        return []
    owned = Cart.user_id == actor.user_id
    if actor.location_id is not None:
        owned = owned | (Cart.location_id == actor.location_id)
    statement = select(Cart).where(owned, Cart.state == "active").order_by(Cart.updated_at.desc(), Cart.id.desc())
    return list(session.exec(statement))
