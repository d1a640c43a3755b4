"""placeOrder and adminCreateOrder: one transaction each, the cart row locked while it runs.

The lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's single writer serializes) makes
concurrent placeOrder calls on one cart queue up: the first converts the cart, the next ones see
it converted and answer with the same order (same idempotency key) or CART_NOT_ACTIVE.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines
from runtime.carts import service as carts
from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.carts.models import Cart
from runtime.channels.models import Channel
from runtime.checkout.pipeline import Checkout, run_stages, stages
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.carts.errors import as_checkout_errors
from runtime.orders.models import Order
from runtime.state_machines.service import StateMachineErrorCode, fire

KEY_MAX = 128


def check_key(key: Any, field: str = "idempotencyKey") -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX:
        raise BusinessError(Code.INVALID_INPUT, f"{field}: expected 1 to {KEY_MAX} characters, got {key!r}", field=field)
    return key


def key_scope(actor: Actor, cart: Cart | None = None) -> str:
    """Whose idempotency keys these are: the signed-in user, the API key, else the guest's cart
    (a guest is known by nothing else). Another caller's key is, for this one, an unused key."""
    if actor.user_id is not None:
        return f"user:{actor.user_id}"
    if actor.api_key_id is not None:
        return f"api_key:{actor.api_key_id}"
    return f"cart:{cart.id}" if cart is not None else "anonymous"


def _order_for_key(session: Session, scope: str, key: str):
    """The order this caller placed with ``key`` within the retention time (``idempotency_key_hours``);
    an older one gives the key up (its order keeps no key) so the key places a new order."""
    found = session.exec(select(Order).where(Order.idempotency_scope == scope, Order.idempotency_key == key)).first()
    if found is None:
        return None
    kept = timedelta(hours=current_app.config["VECTIS"].idempotency_key_hours)
    if found.created_at < utcnow() - kept:
        found.idempotency_key = found.idempotency_scope = None
        session.add(found)
        session.flush()
        return None
    return found


def _missing(cart: Cart, lines: list) -> list[BusinessError]:
    checks = [
        (not lines, Code.CART_EMPTY, "add a line first"),
        (not cart.email, Code.MISSING_EMAIL, "set the e-mail (setCartEmail)"),
        (not cart.shipping_address, Code.MISSING_SHIPPING_ADDRESS, "set the shipping address"),
        (not cart.billing_address, Code.MISSING_BILLING_ADDRESS, "set the billing address"),
        (not cart.shipping_method, Code.MISSING_SHIPPING_METHOD, "choose a shipping method"),
        (not cart.payment, Code.MISSING_PAYMENT, "set the payment (setCartPayment)"),
    ]
    return [BusinessError(code, f"cartId: {hint} before placing the order", field="cartId")
            for failed, code, hint in checks if failed]


def place_order(session: Session, actor: Actor, token: str, key: str, *, base_currency: str,
                created_by: str | None = None, channel: Channel | None = None):
    """The order of cart ``token``: placed now, or the one ``key`` already placed from it."""
    key = check_key(key)
    cart = carts.load_cart(session, actor, token, lock=True)
    scope = key_scope(actor, cart)
    existing = _order_for_key(session, scope, key)
    if existing is not None:
        if existing.cart_id != cart.id:
            raise BusinessError(Code.IDEMPOTENCY_KEY_REUSED, "idempotencyKey: already used for an order of another "
                                "cart; use a new key per checkout", field="idempotencyKey")
        return existing
    if cart.state not in ("approved", "cart_approved_blocked_inventory"):  # approved B2B carts (runtime.approvals)
        carts.require_active(cart)
    if not cart.email and actor.user_id is not None and actor.user_id == cart.user_id and actor.email:
        cart.email = actor.email  # a signed-in buyer's own address
    lines = cart_lines.cart_lines(session, cart)
    problems = _missing(cart, lines)
    if problems:
        raise BusinessErrors(problems)
    if channel is None or channel.id != cart.channel_id:
        channel = session.get(Channel, cart.channel_id)
    try:
        fire(session, cart, "check_out", actor)
    except BusinessError as exc:
        if exc.code == StateMachineErrorCode.STATE_CHANGED.value:
            raise CartMoved() from None
        raise
    checkout = Checkout(session=session, cart=cart, lines=lines, channel=channel, actor=actor,
                        base_currency=base_currency, idempotency_key=key, created_by=created_by)
    try:
        run_stages(checkout, stages(current_app))
    except (BusinessError, BusinessErrors) as exc:
        raise as_checkout_errors(exc, Code.CHECKOUT_FAILED) from None
    fire(session, cart, "convert", actor)
    checkout.order.idempotency_scope = scope
    session.add(checkout.order)
    return checkout.order


class CartMoved(Exception):
    """Another transaction moved the cart between our read and our write (SQLite, whose reads
    take no row lock): run the whole placeOrder again, which then sees what that one did."""


def _key_taken(exc: IntegrityError) -> bool:
    """The caller's idempotency key was taken by a concurrent placeOrder of another of its carts
    (``uq_orders_idempotency``; SQLite names the columns instead)."""
    text = str(exc.orig)
    return "uq_orders_idempotency" in text or "orders.idempotency_scope" in text


def run_placing(database, work, attempts: int = 3):
    """``database.run(work)``, again when the cart moved under it, or when a concurrent call of
    the same caller committed the same key first: the next attempt finds that order and answers
    it (same cart) or IDEMPOTENCY_KEY_REUSED (another cart)."""
    for attempt in range(1, attempts + 1):
        try:
            return database.run(work)
        except CartMoved:
            if attempt == attempts:
                raise BusinessError(Code.CART_NOT_ACTIVE, "cartId: the cart is being checked out by another request; "
                                    "retry with the same idempotency key", field="cartId") from None
        except IntegrityError as exc:
            if not _key_taken(exc) or attempt == attempts:
                raise


def admin_create_order(session: Session, actor: Actor, channel: Channel | None, values: dict[str, Any], *,
                       base_currency: str):
    """A staff member's order for a B2B location, charged to a saved card: a location cart built
    from the input, then the same :func:`place_order`. ``created_by`` is the staff e-mail."""
    from runtime.accounts.models import Location

    key = check_key(values.get("idempotency_key"), "input.idempotencyKey")
    existing = _order_for_key(session, key_scope(actor), key)
    if existing is not None:
        return existing
    location_id = cart_lines.parse_id(values.get("location_id"), "input.locationId")
    location = session.get(Location, location_id)
    if location is None or str(location.account_id) != str(values.get("account_id")).strip():
        raise BusinessError(Code.NOT_FOUND, f"input.locationId: no location {values.get('location_id')!r} of account "
                            f"{values.get('account_id')!r}", field="input.locationId")
    cart = carts.create_cart(session, actor, channel, email=values.get("email"), lines=values.get("lines") or [],
                             location_id=location.id)
    problems = []
    for kind in ("shipping", "billing"):
        try:
            setattr(cart, f"{kind}_address", carts.location_address(
                session, location.id, values.get(f"{kind}_address_id"), f"input.{kind}AddressId"))
        except BusinessError as exc:
            problems.append(exc)
    saved = _saved_method(session, location, values.get("saved_payment_method_id"), problems)
    if problems:
        raise BusinessErrors(problems)
    from runtime.carts import shipping
    from runtime.channels.providers import providers
    from runtime.money import Money

    code = values.get("shipping_method_code")
    chosen = shipping.find(shipping.quote(session, cart), code)
    if chosen is None:
        raise BusinessError(Code.SHIPPING_METHOD_UNAVAILABLE, f"input.shippingMethodCode: {code!r} is not offered for "
                            "this location's shipping address", field="input.shippingMethodCode")
    cart.shipping_method = chosen
    cart.shipping_total = Money(chosen["amount"], cart.currency).amount
    gateways = providers(session, cart.channel_id, "payment_gateway")
    if not gateways:
        raise BusinessError(Code.NO_GATEWAY, "input.savedPaymentMethodId: the channel has no payment gateway configured",
                            field="input.savedPaymentMethodId")
    cart.payment = {"gateway": gateways[0].key, "token": None, "saved_payment_method_id": saved.id}
    session.add(cart)
    return place_order(session, actor, cart.token, key, base_currency=base_currency, created_by=actor.email or None,
                       channel=channel)


def _saved_method(session: Session, location, saved_id: Any, problems: list):
    from runtime.payments.models import SavedPaymentMethod

    field = "input.savedPaymentMethodId"
    try:
        method = session.get(SavedPaymentMethod, cart_lines.parse_id(saved_id, field))
    except BusinessError as exc:
        problems.append(exc)
        return None
    usable = method is not None and method.is_active and method.account_id == location.account_id and (
        method.location_id in (None, location.id))
    if not usable:
        problems.append(BusinessError(Code.NOT_FOUND, f"{field}: no saved payment method {saved_id!r} of this location",
                                      field=field))
        return None
    return method
