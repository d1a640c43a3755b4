"""GraphQL: saved payment methods, staff capture/void/refund, and ``setChannelProvider``."""
from __future__ import annotations

from ariadne import MutationType, ObjectType, QueryType
from flask import current_app
from sqlmodel import select

from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.graphql.values import money
from runtime.money import Money
from runtime.payments import readiness, service
from runtime.payments.errors import PaymentErrorCode
from runtime.payments.models import PaymentTransaction, SavedPaymentMethod

query = QueryType()
mutation = MutationType()
payment_type = ObjectType("PaymentTransaction")
method_type = ObjectType("SavedPaymentMethod")


def _id(value, field: str, what: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if not 0 < number < 2**31:
        raise BusinessError(PaymentErrorCode.NOT_FOUND, f"{field}: no {what} {value}", field=field)
    return number


@query.field("paymentMethodCapabilities")
def resolve_method_capabilities(_, info, channel: str | None = None, include_orphaned: bool = False,
                                include_disabled: bool = False):
    ctx = context_of(info)
    ctx.require("channels.manage")
    with ctx.reads() as session:
        methods = readiness.payment_methods(session, current_app, channel, include_orphaned=include_orphaned,
                                            include_disabled=include_disabled)
    return [{"channel": m.channel, "provider": m.provider, "label": m.label, "is_active": m.is_active,
             "orphaned": m.orphaned, "capabilities": None if m.capabilities is None else {
                 "partial_capture": m.capabilities.partial_capture, "incremental_auth": m.capabilities.incremental_auth,
                 "void": m.capabilities.void, "refund": m.capabilities.refund,
                 "expiry_window_days": m.capabilities.expiry_window.total_seconds() / 86400}} for m in methods]


@query.field("savedPaymentMethods")
def resolve_saved_methods(_, info, location_id: str | None = None):
    ctx = context_of(info)
    try:
        location = None if location_id is None else _id(location_id, "locationId", "location")
    except BusinessError:
        return []
    with ctx.reads() as session:
        methods = service.list_saved_payment_methods(session, ctx.actor, location)
        _load_locations(info, session, methods)
    return methods


def _load_locations(info, session, methods: list[SavedPaymentMethod]) -> dict:
    """The methods' locations in one query, kept for the request (no query per method)."""
    from runtime.accounts.models import Location

    known = info.context.__dict__.setdefault("vectis.payments", {}).setdefault("locations", {})
    wanted = {m.location_id for m in methods if m.location_id is not None} - set(known)
    if wanted:
        known.update({row.id: row for row in session.exec(select(Location).where(Location.id.in_(wanted)))})
    return known


@mutation.field("addSavedPaymentMethod")
@payload
def resolve_add_method(_, info, input: dict):
    ctx = context_of(info)
    channel = ctx.channel
    if channel is None:
        raise BusinessError(PaymentErrorCode.NO_GATEWAY, "X-Channel-Slug: no channel, so no payment gateway", field="channel")
    location = None if input.get("location_id") is None else _id(input["location_id"], "locationId", "location")
    account = None if input.get("account_id") is None else _id(input["account_id"], "accountId", "account")
    method = ctx.db.run(lambda session: service.add_saved_payment_method(
        session, ctx.actor, channel_id=channel.id, token=input["token"], label=input.get("label") or "",
        location_id=location, account_id=account))
    return {"saved_payment_method": method}


@mutation.field("removeSavedPaymentMethod")
@payload
def resolve_remove_method(_, info, id: str):
    ctx = context_of(info)
    return {"saved_payment_method": ctx.db.run(lambda session: service.remove_saved_payment_method(session, ctx.actor, id))}


def _staff_operation(info, permission: str, operation):
    ctx = context_of(info)
    ctx.require(permission)

    def work(session):
        child = operation(session, ctx.actor)
        return session.get(PaymentTransaction, child.parent_id), child

    payment, child = ctx.db.run(work)
    return {"payment": payment, "operation": child}


@mutation.field("capturePayment")
@payload
def resolve_capture(_, info, payment_id: str, amount: str | None = None):
    return _staff_operation(info, "payments.capture",
                            lambda session, actor: service.capture_payment(session, actor, payment_id, amount))


@mutation.field("voidPayment")
@payload
def resolve_void(_, info, payment_id: str):
    return _staff_operation(info, "payments.void", lambda session, actor: service.void_payment(session, actor, payment_id))


@mutation.field("refundPayment")
@payload
def resolve_refund(_, info, payment_id: str, amount: str | None = None):
    return _staff_operation(info, "payments.refund",
                            lambda session, actor: service.refund_payment(session, actor, payment_id, amount))


@mutation.field("setChannelProvider")
@payload
def resolve_set_provider(_, info, channel_slug: str, slot: str, provider: str, config: dict | None = None,
                         position: int = 0, is_active: bool = True):
    from runtime.channels.errors import ChannelErrorCode
    from runtime.channels.models import Channel
    from runtime.channels.providers import set_provider

    ctx = context_of(info)
    ctx.require("channels.manage")
    if config is not None and not isinstance(config, dict):
        raise BusinessError(ChannelErrorCode.INVALID_PROVIDER_CONFIG, "config: expected a JSON object", field="config")

    def work(session):
        channel = session.exec(select(Channel).where(Channel.slug == channel_slug)).first()
        if channel is None:
            raise BusinessError(ChannelErrorCode.NOT_FOUND, f"channelSlug: no channel {channel_slug!r}", field="channelSlug")
        row = set_provider(session, channel, slot, provider, config, position=position, is_active=is_active)
        return channel, row

    channel, row = ctx.db.run(work)
    return {"channel": channel, "channel_provider": row}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --- types ------------------------------------------------------------------------------------


def _money_field(column: str):
    def resolve(row: PaymentTransaction, _info):
        return money(Money(getattr(row, column), row.currency))

    return resolve


for _column in ("amount", "captured_amount", "refunded_amount"):
    payment_type.set_field(_camel(_column), _money_field(_column))


# Ariadne's case conversion would read ``last_4``.
method_type.set_field("last4", lambda method, _info: method.last4)


@method_type.field("location")
def resolve_method_location(method: SavedPaymentMethod, info):
    if method.location_id is None:
        return None
    with context_of(info).reads() as session:
        return _load_locations(info, session, [method]).get(method.location_id)


bindables = [query, mutation, payment_type, method_type]
