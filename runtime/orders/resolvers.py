"""GraphQL: ``order``, ``orders`` and ``transitionOrder``.

Order fields that need other rows (lines, payments, history, channel, account, location,
variants) are loaded for every order the request has seen, in one query per kind, and kept in a
per-request cache: an ``orders`` page costs the same few queries whatever ``first`` is.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import Session, select

from runtime.channels.service import set_channel_policy
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import aware_time, check_first, connection, decode_cursor, money
from runtime.money import Money
from runtime.orders import service
from runtime.orders.errors import OrderErrorCode
from runtime.orders.models import Order, OrderLine
from runtime.orders.modify import modify_order
from runtime.orders.versions import versions_of
from runtime.state_machines.models import StateTransition

query = QueryType()
mutation = MutationType()
order_type = ObjectType("Order")
line_type = ObjectType("OrderLine")
history_type = ObjectType("OrderHistoryEntry")

CACHE = "vectis.orders"


def cache(info) -> dict[str, Any]:
    """Per request: the orders seen (id → order) and what was bulk-loaded for them."""
    return info.context.__dict__.setdefault(CACHE, {"orders": {}, "loaded": {}})


def remember(info, orders: list[Order]) -> list[Order]:
    cache(info)["orders"].update({order.id: order for order in orders})
    return orders


def related(info, kind: str, order: Order) -> Any:
    """``kind`` of ``order``, loading it for every remembered order on first use."""
    found = cache(info)["loaded"].setdefault(kind, {})
    if order.id not in found:
        remember(info, [order])
        pending = [o for o in cache(info)["orders"].values() if o.id not in found]
        with context_of(info).reads() as session:
            found.update(_LOADERS[kind](session, pending))
    return found[order.id]


def _lines(session: Session, orders: list[Order]) -> dict[int, list]:
    ids = [o.id for o in orders]
    grouped: dict[int, list] = {order_id: [] for order_id in ids}
    for line in session.exec(select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id)):
        grouped[line.order_id].append(line)
    return grouped


def _history(session: Session, orders: list[Order]) -> dict[int, list]:
    ids = {str(o.id): o.id for o in orders}
    grouped: dict[int, list] = {order_id: [] for order_id in ids.values()}
    rows = session.exec(select(StateTransition).where(StateTransition.entity_type == "order",
                                                      StateTransition.entity_id.in_(list(ids)))
                        .order_by(StateTransition.id))
    for row in rows:
        grouped[ids[row.entity_id]].append(row)
    return grouped


def _payments(session: Session, orders: list[Order]) -> dict[int, list]:
    from runtime.payments.service import payments_of

    return payments_of(session, [o.id for o in orders])


def _by_id(model: type, attribute: str):
    def load(session: Session, orders: list[Order]) -> dict[int, Any]:
        wanted = {getattr(o, attribute) for o in orders} - {None}
        rows = {row.id: row for row in session.exec(select(model).where(model.id.in_(wanted)))} if wanted else {}
        return {o.id: rows.get(getattr(o, attribute)) for o in orders}

    return load


def _model(module: str, name: str) -> type:
    import importlib

    return getattr(importlib.import_module(module), name)


_LOADERS = {
    "lines": _lines,
    "history": _history,
    "payments": _payments,
    "channel": lambda s, orders: _by_id(_model("runtime.channels.models", "Channel"), "channel_id")(s, orders),
    "account": lambda s, orders: _by_id(_model("runtime.accounts.models", "Account"), "account_id")(s, orders),
    "location": lambda s, orders: _by_id(_model("runtime.accounts.models", "Location"), "location_id")(s, orders),
}


@query.field("order")
def resolve_order(_, info, id: str):
    ctx = context_of(info)
    with ctx.reads() as session:
        try:
            order = service.get_order(session, ctx.actor, id, field="id")
        except BusinessError:
            return None
    return remember(info, [order])[0]


@query.field("orders")
def resolve_orders(_, info, first: int = 20, after: str | None = None, filter: dict | None = None,
                   inventory_risk_only: bool = False):
    ctx = context_of(info)
    try:
        check_first(first, OrderErrorCode.INVALID_FILTER)
        cursor = None
        if after is not None:
            key = decode_cursor(after, OrderErrorCode.INVALID_FILTER)
            cursor = (_time(key[0], "after"), int(key[1]))
        with ctx.reads() as session:
            filters = _filters(session, filter or {})
            filters = replace(filters, inventory_risk_only=bool(inventory_risk_only))
            rows, total = service.list_orders(session, ctx.actor, filters, first=first, after=cursor)
    except BusinessError as exc:
        raise query_error(info, exc) from None
    remember(info, rows[:first])
    return connection(rows, first, lambda o: (o.created_at.isoformat(), o.id), after=after is not None, total=total)


@mutation.field("transitionOrder")
@payload
def resolve_transition(_, info, order_id: str, transition: str):
    ctx = context_of(info)

    def work(session):
        order = service.get_order(session, ctx.actor, order_id)
        return service.transition_order(session, order, transition, ctx.actor)

    return {"order": remember(info, [ctx.db.run(work)])[0]}


def _filters(session: Session, raw: dict) -> service.OrderFilter:
    channel_id = None
    if raw.get("channel_slug"):
        from runtime.channels.models import Channel

        channel = session.exec(select(Channel).where(Channel.slug == raw["channel_slug"])).first()
        channel_id = channel.id if channel is not None else -1  # an unknown channel has no orders
    account_id = None
    if raw.get("account_id") is not None:
        try:
            account_id = int(str(raw["account_id"]))
        except ValueError:
            raise BusinessError(OrderErrorCode.INVALID_FILTER, f"filter.accountId: not an id: {raw['account_id']!r}",
                                field="filter.accountId") from None
    return service.OrderFilter(states=tuple(raw.get("states") or ()), channel_id=channel_id, account_id=account_id,
                               created_from=_time(raw.get("created_from"), "filter.createdFrom"),
                               created_to=_time(raw.get("created_to"), "filter.createdTo"))


def _time(value: Any, field: str) -> datetime | None:
    try:
        return aware_time(value)
    except ValueError:
        raise BusinessError(OrderErrorCode.INVALID_FILTER,
                            f"{field}: expected an ISO-8601 time with a zone, like 2026-01-15T12:00:00Z, got {value!r}",
                            field=field) from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# --- Order ------------------------------------------------------------------------------------


def _money_field(column: str, currency: str = "currency"):
    def resolve(order: Order, _info):
        return money(Money(getattr(order, column), getattr(order, currency)))

    return resolve


for _column in ("subtotal", "shipping_total", "discount_total", "tax_total", "total"):
    order_type.set_field(_camel(_column), _money_field(_column))
order_type.set_field("baseTotal", _money_field("base_total", "base_currency"))


@order_type.field("exchangeRate")
def resolve_exchange_rate(order: Order, _info):
    return format(order.exchange_rate, "f")


@order_type.field("placedAt")
def resolve_placed_at(order: Order, _info):
    # create_order places the order in the transaction that inserts it.
    return None if order.state == "draft" else order.created_at


@order_type.field("shippingMethod")
def resolve_shipping_method(order: Order, _info):
    method = order.shipping_method
    if not method:
        return None
    return {**method, "currency": method.get("currency") or order.currency}


for _kind in ("lines", "history", "payments", "channel", "account", "location"):
    order_type.set_field(_kind, lambda order, info, _kind=_kind: related(info, _kind, order))


@order_type.field("availableTransitions")
def resolve_available(order: Order, info):
    from runtime.state_machines.service import available_transitions

    ctx = context_of(info)
    with ctx.reads() as session:
        options = available_transitions(session, order, ctx.actor)
    return [{"name": o.name, "to": o.target, "available": o.available,
             "blockers": [service._order_error(b).as_dict() for b in o.blockers]} for o in options]


# --- OrderLine ----------------------------------------------------------------------------------


@line_type.field("unitPrice")
def resolve_unit_price(line: OrderLine, info):
    return money(Money(line.unit_price, _currency(info, line)))


@line_type.field("lineTotal")
def resolve_line_total(line: OrderLine, info):
    return money(Money(line.line_total, _currency(info, line)))


line_type.set_alias("package", "package_slug")


@line_type.field("variant")
def resolve_variant(line: OrderLine, info):
    if line.variant_id is None:
        return None
    variants = cache(info).setdefault("variants", {})
    if line.variant_id not in variants:
        model = _model("runtime.catalog.models", "ProductVariant")
        wanted = {l.variant_id for lines in cache(info)["loaded"].get("lines", {}).values() for l in lines} | {line.variant_id}
        wanted = {v for v in wanted if v is not None and v not in variants}
        with context_of(info).reads() as session:
            rows = {row.id: row for row in session.exec(select(model).where(model.id.in_(wanted)))}
        variants.update({v: rows.get(v) for v in wanted})
    return variants[line.variant_id]


def _currency(info, line: OrderLine) -> str:
    order = cache(info)["orders"].get(line.order_id)
    if order is None:
        with context_of(info).reads() as session:
            order = remember(info, [session.get(Order, line.order_id)])[0]
    return order.currency


bindables = [query, mutation, order_type, line_type, history_type]


# --- modifyOrder and order versions ---------------------------------------------------------

version_type = ObjectType("OrderVersion")


@mutation.field("modifyOrder")
@payload
def resolve_modify(_, info, order_id: str, input: dict):
    ctx = context_of(info)
    order = ctx.db.run(lambda session: modify_order(session, ctx.actor, order_id, input,
                                                    base_currency=ctx.settings.base_currency))
    cache(info)["loaded"].clear()  # lines and payments changed
    return {"order": remember(info, [order])[0]}


@mutation.field("setChannelOrderModification")
@payload
def resolve_set_channel_modification(_, info, channel_slug: str, buyers_may_modify: bool):
    ctx = context_of(info)
    ctx.require("channels.manage")
    return {"channel": ctx.db.run(lambda session: set_channel_policy(session, channel_slug,
                                                                     buyers_modify_orders=bool(buyers_may_modify)))}


def _versions(session: Session, orders: list[Order]) -> dict[int, list]:
    return versions_of(session, [o.id for o in orders])


_LOADERS["versions"] = _versions
order_type.set_field("versions", lambda order, info: related(info, "versions", order))
for _column in ("subtotal", "shipping_total", "discount_total", "tax_total", "total"):
    version_type.set_field(_camel(_column), _money_field(_column))
bindables.append(version_type)
