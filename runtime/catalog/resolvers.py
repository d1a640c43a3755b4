"""GraphQL resolvers: public catalog reads in the request's channel, staff mutations under
``catalog.manage``. Field resolvers read the per-request cache of :mod:`runtime.catalog.loaders`."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.catalog import loaders, search, service
from runtime.catalog.errors import CatalogErrorCode as Code
from runtime.catalog.models import Attribute, Brand
from runtime.errors import BusinessError, BusinessErrors
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import aware_time, check_first, connection, decode_cursor

query = QueryType()
mutation = MutationType()
product_type = ObjectType("Product")
variant_type = ObjectType("Variant")
category_type = ObjectType("Category")

MANAGE = "catalog.manage"


def _channel_id(info) -> int | None:
    channel = context_of(info).channel
    return channel.id if channel is not None else None


def _int_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@query.field("products")
def resolve_products(_, info, first: int = 20, after: str | None = None, filter: dict | None = None):
    try:
        check_first(first, Code.INVALID_PAGE)
        key = search.check_key(decode_cursor(after, Code.INVALID_PAGE)) if after else None
        channel_id = _channel_id(info)
        with context_of(info).reads() as session:
            page = search.search_products(session, channel_id=channel_id, first=first, after=key, filter=filter)
    except (BusinessError, BusinessErrors) as exc:
        raise query_error(info, exc) from None
    products = [row[0] for row in page.rows[:first]]
    loaders.remember(info, products, [row[1] for row in page.rows], [row[2] for row in page.rows])
    loaders.load_variants_for(info, [p.id for p in products])
    return connection([row[0] for row in page.rows], first, search.cursor_key, after=after is not None,
                      total=page.total)


@query.field("product")
def resolve_product(_, info, id: str | None = None, slug: str | None = None):
    if id is not None and _int_id(id) is None:
        return None
    with context_of(info).reads() as session:
        product = service.find_product(session, id=_int_id(id), slug=slug, channel_id=_channel_id(info))
    if product is not None:
        loaders.remember(info, [product])
    return product


@query.field("variant")
def resolve_variant(_, info, id: str | None = None, sku: str | None = None):
    if id is None and sku is None or (id is not None and _int_id(id) is None):
        return None
    with context_of(info).reads() as session:
        found = service.load_variants(session, ids=[_int_id(id)] if id is not None else (),
                                      skus=[sku] if sku is not None and id is None else (), channel_id=_channel_id(info))
    if not found:
        return None
    variant, product = next(iter(found.values()))
    loaders.remember(info, [product])
    return variant


@query.field("categories")
def resolve_categories(_, info, parent_slug: str | None = None):
    tree = loaders.category_tree(info)
    if parent_slug is None:
        return [c for c in tree.values() if c.parent_id is None]
    parent = next((c for c in tree.values() if c.slug == parent_slug), None)
    return [] if parent is None else [c for c in tree.values() if c.parent_id == parent.id]


@query.field("brands")
def resolve_brands(_, info):
    with context_of(info).reads() as session:
        return list(session.exec(select(Brand).order_by(Brand.name, Brand.id)))


@query.field("attributes")
def resolve_attributes(_, info):
    ctx = context_of(info)
    ctx.require(MANAGE)
    with ctx.reads() as session:
        return list(session.exec(select(Attribute).order_by(Attribute.code)))


@product_type.field("name")
def resolve_product_name(product, info):
    return loaders.product_text(info, product, "name")


@product_type.field("description")
def resolve_product_description(product, info):
    return loaders.product_text(info, product, "description")


@product_type.field("brand")
def resolve_product_brand(product, info):
    return loaders.brand_of(info, product.brand_id)


@product_type.field("category")
def resolve_product_category(product, info):
    return loaders.category_of(info, product.category_id)


@product_type.field("attributes")
def resolve_product_attributes(product, info):
    return loaders.attribute_values(info, product.attributes)


@product_type.field("variants")
def resolve_product_variants(product, info):
    return loaders.variants_of(info, product)


@variant_type.field("attributes")
def resolve_variant_attributes(variant, info):
    return loaders.attribute_values(info, variant.attributes)


@variant_type.field("product")
def resolve_variant_product(variant, info):
    return loaders.product_of(info, variant.product_id)


@category_type.field("name")
def resolve_category_name(category, info):
    return loaders.category_name(info, category)


@category_type.field("parent")
def resolve_category_parent(category, info):
    return loaders.category_of(info, category.parent_id)


@category_type.field("children")
def resolve_category_children(category, info):
    return [c for c in loaders.category_tree(info).values() if c.parent_id == category.id]


@category_type.field("path")
def resolve_category_path(category, info):
    tree = loaders.category_tree(info)
    return [tree[int(i)] for i in category.path.strip("/").split("/") if i and int(i) in tree]


def _attribute_map(values: list[dict] | None) -> dict[str, Any] | None:
    return None if values is None else {v["code"]: v.get("value") for v in values}


def _time(value: Any, field: str) -> datetime | None:
    """A DateTime input (the scalar has no parser, so an ISO-8601 string) with a zone."""
    try:
        return aware_time(value)
    except ValueError:
        raise BusinessError(Code.INVALID_WINDOW, f"{field}: expected an ISO-8601 time with a zone, got {value!r}",
                            field=field) from None


@mutation.field("createCategory")
@payload
def resolve_create_category(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"category": ctx.db.run(lambda session: service.create_category(session, **input))}


@mutation.field("createBrand")
@payload
def resolve_create_brand(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"brand": ctx.db.run(lambda session: service.create_brand(session, **input))}


@mutation.field("createAttribute")
@payload
def resolve_create_attribute(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"attribute": ctx.db.run(lambda session: service.create_attribute(session, **input))}


@mutation.field("createProduct")
@payload
def resolve_create_product(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    values = dict(input, attributes=_attribute_map(input.get("attributes")))
    values["variants"] = [dict(v, attributes=_attribute_map(v.get("attributes"))) for v in input.get("variants") or []]
    product = ctx.db.run(lambda session: service.create_product(
        session, base_currency=ctx.settings.base_currency, **values))
    return {"product": product}


@mutation.field("updateProduct")
@payload
def resolve_update_product(_, info, id: str, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    values = dict(input, attributes=_attribute_map(input.get("attributes")))
    return {"product": ctx.db.run(lambda session: service.update_product(session, id, **values))}


@mutation.field("setProductTranslation")
@payload
def resolve_set_product_translation(_, info, product_id: str, locale: str, name: str, description: str | None = None):
    ctx = context_of(info)
    ctx.require(MANAGE)

    def work(session):
        row = service.set_product_translation(session, product_id, locale=locale, name=name, description=description)
        return service.get_product(session, row.product_id)

    return {"product": ctx.db.run(work)}


@mutation.field("setCategoryTranslation")
@payload
def resolve_set_category_translation(_, info, category_slug: str, locale: str, name: str):
    ctx = context_of(info)
    ctx.require(MANAGE)

    def work(session):
        service.set_category_translation(session, category_slug, locale=locale, name=name)
        return service.get_category(session, category_slug, "categorySlug")

    return {"category": ctx.db.run(work)}


@mutation.field("setProductChannels")
@payload
def resolve_set_product_channels(_, info, product_id: str, channels: list[dict]):
    ctx = context_of(info)
    ctx.require(MANAGE)
    problems, windows = [], []
    for i, given in enumerate(channels):
        window = dict(given)
        for key, name in (("visible_from", "visibleFrom"), ("visible_until", "visibleUntil")):
            try:
                window[key] = _time(given.get(key), f"channels.{i}.{name}")
            except BusinessError as exc:
                problems.append(exc)
        windows.append(window)
    if problems:
        raise BusinessErrors(problems)
    return {"product": ctx.db.run(lambda session: service.set_product_channels(session, product_id, windows))}


bindables = [query, mutation, product_type, variant_type, category_type]
