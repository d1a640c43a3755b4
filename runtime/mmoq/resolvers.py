"""GraphQL of MMOQ caps, bulk rows and reorder. Violations travel inside the refusals' ``mmoq``
parameter; the payloads' ``violations`` field reads them back out of ``errors``."""
from __future__ import annotations

from ariadne import MutationType, ObjectType, QueryType

from runtime.carts.resolvers import remember
from runtime.graphql.context import context_of, payload
from runtime.graphql.values import money
from runtime.mmoq import bulk
from runtime.mmoq.reorder import reorder

query = QueryType()
mutation = MutationType()
violation_type = ObjectType("MmoqViolationDetail")
row_type = ObjectType("CartBulkRow")
reorder_line_type = ObjectType("ReorderLine")
payload_types = [ObjectType(name) for name in ("CartPayload", "PlaceOrderPayload", "BulkAddToCartPayload",
                                               "ReorderPayload")]
LIMIT_NAMES = {"min_quantity": "minQuantity", "increment": "increment",
               "max_per_customer_per_order": "maxPerCustomerPerOrder", "max_per_customer_30d": "maxPerCustomer30d",
               "max_backorder_qty": "maxBackorderQty"}


def _violations(result: dict, _info):
    found = [error["mmoq"] for error in result.get("errors", []) if error.get("mmoq")]
    return found + [v for v in result.get("row_violations", [])]


for _type in payload_types:
    _type.set_field("violations", _violations)


def _listed(name: str):
    """A list field of a payload: empty when the mutation was refused (only ``errors`` then)."""
    return lambda result, _info: result.get(name) or []


lists_type = ObjectType("CartBulkLookupPayload")
lists_type.set_field("rows", _listed("rows"))
payload_types[2].set_field("added", _listed("added"))
payload_types[2].set_field("failed", _listed("failed"))
payload_types[3].set_field("lines", _listed("lines"))


def _detail(detail) -> dict:
    return detail.__dict__ if not isinstance(detail, dict) else detail


@violation_type.field("limitName")
def resolve_limit_name(detail: dict, _info):
    return LIMIT_NAMES[_detail(detail)["limit_name"]]


@violation_type.field("variant")
def resolve_violation_variant(detail: dict, info):
    return _variant(info, _detail(detail)["variant_id"])


def _variant(info, variant_id: int | None):
    if variant_id is None:
        return None
    from runtime.catalog.models import ProductVariant

    found = info.context.__dict__.setdefault("vectis.mmoq.variants", {})
    if variant_id not in found:
        with context_of(info).reads() as session:
            found[variant_id] = session.get(ProductVariant, variant_id)
    return found[variant_id]


def _row(row: bulk.Row) -> dict:
    return {"index": row.index, "sku": row.sku, "variant": row.variant, "quantity": row.quantity,
            "package": row.package, "package_hint": row.package_hint, "multiplier": row.multiplier,
            "base_quantity": row.base_quantity, "unit_changed": row.unit_changed,
            "unit_price": money(row.unit_price) if row.unit_price is not None and not row.errors else None,
            "line_total": money(row.line_total) if row.line_total is not None else None,
            "violations": row.violations, "errors": [error.as_dict() for error in row.errors]}


@query.field("cartBulkLookup")
@payload
def resolve_cart_bulk_lookup(_, info, input: dict):
    from runtime.carts import service as carts

    ctx = context_of(info)
    with ctx.db.session() as session:  # its own session, not the request's reads: the preview's cart is thrown away
        token = input.get("cart_id")
        cart = carts.load_cart(session, ctx.actor, token, field="input.cartId") if token else \
            bulk.guest_cart(session, ctx.actor, ctx.channel)
        # A preview: the session is closed without a commit, so nothing it touched is kept.
        return {"rows": [_row(row) for row in bulk.lookup(session, ctx.actor, cart, input["rows"])]}


@mutation.field("bulkAddToCart")
@payload
def resolve_bulk_add(_, info, cart_id: str, rows: list):
    ctx = context_of(info)
    cart, added, failed = ctx.db.run(lambda session: bulk.add(session, ctx.actor, cart_id, rows))
    remember(info, cart)
    return {"cart": cart, "added": [_row(row) for row in added],
            "failed": [_row(row) for row in failed],
            "row_violations": [v for row in failed for v in row.violations]}


@mutation.field("reorder")
@payload
def resolve_reorder(_, info, order_id: str):
    ctx = context_of(info)
    cart, lines = ctx.db.run(lambda session: reorder(session, ctx.actor, order_id))
    if cart is not None:
        remember(info, cart)
    return {"cart": cart, "lines": lines}


@reorder_line_type.field("variant")
def resolve_reorder_variant(line, info):
    return _variant(info, line.variant_id)


@reorder_line_type.field("error")
def resolve_reorder_error(line, _info):
    return None if line.error is None else line.error.as_dict()


bindables = [query, mutation, violation_type, row_type, reorder_line_type, lists_type, *payload_types]
