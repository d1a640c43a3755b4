"""GraphQL of inventory: warehouses, stock, reservations, policies, the ERP's push and handoff.

Every mutation is one ``db.run`` transaction; refusals come back in the payload's ``errors``,
missing permissions as top-level errors.
"""
from __future__ import annotations

from typing import Any

from ariadne import EnumType, MutationType, ObjectType, QueryType
from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from runtime.catalog.models import ProductVariant
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import aware_time, check_first, connection, decode_cursor
from runtime.inventory import push, service
from runtime.inventory.errors import InventoryErrorCode as Code
from runtime.inventory.holds import HOLD_MODES
from runtime.inventory.models import Reservation, StockLevel, Warehouse

READ, MANAGE, PUSH = "inventory.read", "inventory.manage", "stock.push"

query = QueryType()
mutation = MutationType()
hold_mode = EnumType("InventoryHoldMode", {mode.upper(): mode for mode in HOLD_MODES})
reservation_type = ObjectType("Reservation")


def variant_stock(session: Session, variants: list[ProductVariant]) -> list[dict[str, Any]]:
    """``VariantStock`` of each variant: three statements for any number of them."""
    from runtime.catalog.models import Product

    ids = [v.id for v in variants]
    summary = service.stock_summary(session, ids)
    tracked = dict(session.execute(select(ProductVariant.id, Product.track_inventory)
                                   .join(Product, Product.id == ProductVariant.product_id)
                                   .where(ProductVariant.id.in_(ids))).all()) if ids else {}
    rows: dict[int, list] = {v: [] for v in ids}
    if ids:
        for level, store in session.execute(select(StockLevel, Warehouse).join(Warehouse)
                                            .where(StockLevel.variant_id.in_(ids))
                                            .order_by(Warehouse.position, Warehouse.id)):
            rows[level.variant_id].append({"warehouse": store, "on_hand": level.on_hand, "reserved": level.reserved,
                                           "pushed_at": level.pushed_at})
    return [{"sku": v.sku, "tracked": bool(tracked.get(v.id)), **summary[v.id], "backorder_limit": v.backorder_limit,
             "warehouses": rows[v.id], "external_stock_snapshot": v.external_stock_snapshot} for v in variants]


def _stock_of(session: Session, variant: ProductVariant) -> dict[str, Any]:
    session.refresh(variant)
    return variant_stock(session, [variant])[0]


def _released(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "id": str(row["id"]), "cart_id": _str(row["cart_id"]), "order_id": _str(row["order_id"])}
            for row in rows]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def payload_with(**empty: Any):
    """:func:`payload`, with the payload's list and count fields present (empty) on a refusal."""
    def wrap(resolver):
        wrapped = payload(resolver)

        def resolve(obj, info, *args, **kwargs):
            result = wrapped(obj, info, *args, **kwargs)
            for key, value in empty.items():
                result.setdefault(key, value)
            return result

        return resolve

    return wrap


# --- queries -----------------------------------------------------------------------------------


@query.field("warehouses")
def resolve_warehouses(_, info):
    ctx = context_of(info)
    ctx.require(READ)
    with ctx.reads() as session:
        return list(session.exec(select(Warehouse).order_by(Warehouse.position, Warehouse.id)))


@query.field("stockLevels")
def resolve_stock_levels(_, info, skus: list[str]):
    ctx = context_of(info)
    ctx.require(READ)
    with ctx.reads() as session:
        found = {v.sku: v for v in session.exec(select(ProductVariant).where(ProductVariant.sku.in_(skus)))}
        return variant_stock(session, [found[sku] for sku in dict.fromkeys(skus) if sku in found])


@query.field("reservations")
def resolve_reservations(_, info, first: int = 20, after: str | None = None, filter: dict | None = None):
    ctx = context_of(info)
    ctx.require(READ)
    try:
        check_first(first, Code.INVALID_INPUT)
        with ctx.reads() as session:
            conditions = _reservation_filter(session, filter or {})
            page = select(Reservation).where(*conditions).order_by(Reservation.created_at.desc(),
                                                                   Reservation.id.desc())
            if after is not None:
                at, last_id = _cursor(after)
                page = page.where(or_(Reservation.created_at < at,
                                      and_(Reservation.created_at == at, Reservation.id < last_id)))
            rows = list(session.exec(page.limit(first + 1)))
            total = session.execute(select(func.count()).select_from(Reservation).where(*conditions)).scalar_one()
            _remember_names(info, session, rows[:first])
    except BusinessError as exc:
        raise query_error(info, exc) from None
    return connection(rows, first, lambda r: (r.created_at.isoformat(), r.id), after=after is not None, total=total)


def _reservation_filter(session: Session, raw: dict) -> list:
    conditions = []
    if raw.get("states"):
        conditions.append(Reservation.state.in_(raw["states"]))
    if raw.get("sku") is not None:
        variant = session.exec(select(ProductVariant.id).where(ProductVariant.sku == raw["sku"])).first()
        conditions.append(Reservation.variant_id == (variant if variant is not None else -1))
    for key, column in (("cart_id", Reservation.cart_id), ("order_id", Reservation.order_id)):
        if raw.get(key) is not None:
            conditions.append(column == service.parse_id(raw[key], f"filter.{key.replace('_id', 'Id')}", "id"))
    return conditions


def _cursor(after: str) -> tuple:
    key = decode_cursor(after, Code.INVALID_INPUT)
    try:
        return aware_time(key[0]), int(key[1])
    except (ValueError, IndexError, TypeError):
        raise BusinessError(Code.INVALID_INPUT, "after: not a cursor this API returned", field="after") from None


def _remember_names(info, session: Session, rows: list[Reservation]) -> None:
    """SKUs and warehouse codes of a page, read once for all its rows."""
    names = info.context.__dict__.setdefault("vectis.inventory.names", {"sku": {}, "warehouse": {}})
    variants = {r.variant_id for r in rows} - set(names["sku"])
    stores = {r.warehouse_id for r in rows} - set(names["warehouse"])
    if variants:
        names["sku"].update(session.execute(select(ProductVariant.id, ProductVariant.sku)
                                            .where(ProductVariant.id.in_(variants))).all())
    if stores:
        names["warehouse"].update(session.execute(select(Warehouse.id, Warehouse.code)
                                                  .where(Warehouse.id.in_(stores))).all())


@reservation_type.field("sku")
def resolve_reservation_sku(reservation: Reservation, info):
    return info.context.__dict__["vectis.inventory.names"]["sku"][reservation.variant_id]


@reservation_type.field("warehouseCode")
def resolve_reservation_warehouse(reservation: Reservation, info):
    return info.context.__dict__["vectis.inventory.names"]["warehouse"][reservation.warehouse_id]


# --- mutations -------------------------------------------------------------------------------


@mutation.field("createWarehouse")
@payload
def resolve_create_warehouse(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"warehouse": ctx.db.run(lambda s: service.create_warehouse(s, input.get("code"), input.get("name"),
                                                                      input.get("position", 0)))}


@mutation.field("setStockOnHand")
@payload
def resolve_set_stock(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)

    def work(session):
        level = service.set_on_hand(session, input.get("sku"), input.get("warehouse_code"), input.get("on_hand"))
        return _stock_of(session, session.get(ProductVariant, level.variant_id))

    return {"stock": ctx.db.run(work)}


@mutation.field("setProductInventoryTracking")
@payload
def resolve_set_tracking(_, info, product_id: str, track: bool):
    ctx = context_of(info)
    ctx.require(MANAGE)

    def work(session):
        found = service.set_tracking(session, product_id, track)
        session.refresh(found)
        return found

    return {"product": ctx.db.run(work)}


@mutation.field("setVariantBackorderLimit")
@payload
def resolve_set_backorder_limit(_, info, sku: str, backorder_limit: int):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"stock": ctx.db.run(lambda s: _stock_of(s, service.set_backorder_limit(s, sku, backorder_limit)))}


@mutation.field("setChannelInventoryHoldMode")
@payload
def resolve_set_hold_mode(_, info, channel_slug: str, mode: str):
    from runtime.channels.service import set_channel_policy

    ctx = context_of(info)
    ctx.require("channels.manage")
    return {"channel": ctx.db.run(lambda session: set_channel_policy(session, channel_slug, inventory_hold_mode=mode))}


@mutation.field("pushExternalStock")
@payload_with(results=[])
def resolve_push(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(PUSH)
    results = ctx.db.run(lambda s: push.push_external_stock(s, input))
    return {"results": [vars(r) for r in results]}


@mutation.field("acknowledgeOrderExternalHandoff")
@payload_with(released=[])
def resolve_handoff(_, info, order_id: str, external_reference: str):
    from runtime.orders.models import Order

    ctx = context_of(info)
    ctx.require(PUSH)

    def work(session):
        order = session.get(Order, service.parse_id(order_id, "orderId", "order"))
        if order is None:
            raise BusinessError(Code.NOT_FOUND, f"orderId: no order {order_id!r}", field="orderId")
        released = service.acknowledge_handoff(session, order.id, external_reference, ctx.actor.label)
        return order, released

    order, released = ctx.db.run(work)
    return {"order": order, "released": _released(released.reservations)}


@mutation.field("clearProductInventoryState")
@payload_with(released=[], released_count=0, released_quantity=0)
def resolve_clear_state(_, info, product_id: str):
    ctx = context_of(info)
    ctx.require(MANAGE)
    released = ctx.db.run(lambda s: service.clear_product_inventory_state(s, product_id, ctx.actor.label))
    return {"product": released.product, "released": _released(released.reservations),
            "released_count": released.count, "released_quantity": released.quantity}


@mutation.field("clearProductBackorders")
@payload_with(cleared=[], order_ids=[])
def resolve_clear_backorders(_, info, product_id: str):
    ctx = context_of(info)
    ctx.require(MANAGE)
    found, cleared = ctx.db.run(lambda s: service.clear_product_backorders(s, product_id))
    orders = sorted({row["order_id"] for row in cleared if row["order_id"] is not None})
    return {"product": found, "cleared": _released(cleared), "order_ids": [str(o) for o in orders]}


bindables = [query, mutation, hold_mode, reservation_type]
