"""GraphQL resolvers: the caller's prices (``Variant.price``, ``Product.priceFrom``, ``price``) and
price list management under ``pricing.manage``.

``Variant.price`` and ``Product.priceFrom`` price in batch: the first one resolved in a request
prices every variant the catalog loaded for it (``info.context`` ``"vectis.catalog"`` →
``"variants_by_product"``) with one :func:`resolve_prices` per quantity and currency, and keeps
the answers in ``"vectis.pricing"``.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.accounts.models import Account, CustomerGroup, Location
from runtime.catalog.models import ProductVariant
from runtime.channels.models import Channel
from runtime.errors import BusinessError, BusinessErrors
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import aware_time, money
from runtime.money import Money
from runtime.pricing import service
from runtime.pricing.lists import as_id
from runtime.pricing.errors import PricingErrorCode as Code
from runtime.pricing.models import PriceList, PriceListEntry
from runtime.pricing.types import Price

query = QueryType()
mutation = MutationType()
variant_type = ObjectType("Variant")
product_type = ObjectType("Product")
price_list_type = ObjectType("PriceList")
variant_price_type = ObjectType("VariantPrice")

MANAGE = "pricing.manage"
CACHE = "vectis.pricing"


def _cache(info) -> dict[str, Any]:
    return info.context.__dict__.setdefault(CACHE, {})


def parse_time(value: str | None, field: str) -> datetime | None:
    """An ISO-8601 time with a zone, or ``INVALID_DATE`` naming ``field``."""
    try:
        return aware_time(value)
    except ValueError:
        raise BusinessError(Code.INVALID_DATE,
                            f"{field}: expected an ISO-8601 time with a zone, like 2026-01-15T12:00:00Z, got {value!r}",
                            field=field) from None


def _check_quantity(quantity: int) -> None:
    if quantity < 1:
        raise BusinessError(Code.INVALID_QUANTITY, f"quantity: expected 1 or more, got {quantity}", field="quantity")


# A Price is the GraphQL ``VariantPrice`` itself: its fields are converted only when asked (a
# listing asks two or three of them for every variant on the page).
@variant_price_type.field("unitPrice")
def resolve_unit_price(price: Price, _info):
    return money(price.unit_price)


@variant_price_type.field("level")
def resolve_level(price: Price, _info):
    return price.level.value


@variant_price_type.field("priceList")
def resolve_price_list_ref(price: Price, _info):
    if price.price_list_id is None:
        return None
    return {"id": price.price_list_id, "slug": price.price_list_slug, "name": price.price_list_name,
            "level": price.level.value}


@variant_price_type.field("compareAtPrice")
def resolve_compare_at(price: Price, _info):
    return money(price.compare_at_price)


@variant_price_type.field("lineTotal")
def resolve_line_total(price: Price, _info):
    return money(price.line_total)


@variant_price_type.field("basePrice")
def resolve_base_price(price: Price, _info):
    return money(price.base_price)


@variant_price_type.field("tiers")
def resolve_tiers(price: Price, _info):
    return [{"min_quantity": quantity, "unit_price": money(amount)} for quantity, amount in price.tiers]


def _caller_context(info, currency: str | None):
    contexts = _cache(info).setdefault("contexts", {})
    if currency not in contexts:
        ctx = context_of(info)
        contexts[currency] = service.price_context(ctx.actor, ctx.channel, base_currency=ctx.settings.base_currency,
                                                   currency=currency)
    return contexts[currency]


def _catalog_variants(info) -> dict[int, list[ProductVariant]]:
    """The catalog's per-request variants by product, then any this module loaded itself."""
    loaded = dict(_cache(info).get("variants_by_product", {}))
    loaded.update(info.context.__dict__.get("vectis.catalog", {}).get("variants_by_product") or {})
    return loaded


def _batch_prices(info, quantity: int, currency: str | None, wanted: list[ProductVariant]) -> dict[int, Price]:
    """Prices of ``wanted`` and every not yet priced catalog variant of this request, in one call."""
    batch = _cache(info).setdefault("prices", {}).setdefault((quantity, currency), {"priced": set(), "prices": {}})
    if any(v.id not in batch["priced"] for v in wanted):
        pending = {v.id: v for vs in _catalog_variants(info).values() for v in vs if v.id not in batch["priced"]}
        pending.update({v.id: v for v in wanted if v.id not in batch["priced"]})
        pctx = _caller_context(info, currency)
        with context_of(info).reads() as session:
            batch["prices"].update(service.resolve_prices(session, pctx, [(v, quantity) for v in pending.values()]))
        batch["priced"].update(pending)
    return batch["prices"]


@variant_type.field("price")
def resolve_variant_price(variant, info, quantity: int = 1, currency: str | None = None):
    try:
        _check_quantity(quantity)
        return _batch_prices(info, quantity, currency, [variant]).get(variant.id)
    except BusinessError as exc:
        raise query_error(info, exc) from None


@product_type.field("priceFrom")
def resolve_price_from(product, info):
    variants = _catalog_variants(info).get(product.id)
    if variants is None:  # not loaded by the catalog in this request (a single product): load its variants
        with context_of(info).reads() as session:
            variants = list(session.exec(select(ProductVariant).where(
                ProductVariant.product_id == product.id, ProductVariant.is_active)))
        _cache(info).setdefault("variants_by_product", {})[product.id] = variants
    try:
        prices = _batch_prices(info, 1, None, variants)
    except BusinessError as exc:
        raise query_error(info, exc) from None
    found = [prices[v.id].unit_price for v in variants if v.id in prices]
    return money(min(found)) if found else None


def _buyer(session, actor, account_id, location_id, customer_group_slug):
    """``actor`` pricing as the given buyer (a location brings its account and group), or None if unknown."""
    changes: dict[str, Any] = {}
    if location_id is not None:
        location = session.get(Location, as_id(location_id))
        if location is None:
            return None
        changes["location_id"], account_id = location.id, location.account_id
    if account_id is not None:
        account = session.get(Account, as_id(account_id))
        if account is None:
            return None
        changes["account_id"], changes["customer_group_id"] = account.id, account.customer_group_id
    if customer_group_slug is not None:
        group = session.exec(select(CustomerGroup).where(CustomerGroup.slug == customer_group_slug)).first()
        if group is None:
            return None
        changes["customer_group_id"] = group.id
    return dataclasses.replace(actor, **changes)


@query.field("price")
def resolve_price(_, info, variant_id: str, quantity: int = 1, currency: str | None = None, at: str | None = None,
                  account_id: str | None = None, location_id: str | None = None, customer_group_slug: str | None = None):
    ctx = context_of(info)
    if account_id is not None or location_id is not None or customer_group_slug is not None:
        ctx.require(MANAGE)
    try:
        _check_quantity(quantity)
        when = parse_time(at, "at")
        with ctx.reads() as session:
            actor = _buyer(session, ctx.actor, account_id, location_id, customer_group_slug)
            variant = session.get(ProductVariant, as_id(variant_id))
            if actor is None or variant is None:
                return None
            pctx = service.price_context(actor, ctx.channel, base_currency=ctx.settings.base_currency,
                                         currency=currency, at=when)
            return service.resolve_prices(session, pctx, [(variant, quantity)]).get(variant.id)
    except BusinessError as exc:
        raise query_error(info, exc) from None


@query.field("priceLists")
def resolve_price_lists(_, info, level: str | None = None):
    ctx = context_of(info)
    ctx.require(MANAGE)
    with ctx.reads() as session:
        return _remember_lists(info, service.list_price_lists(session, level))


@query.field("priceList")
def resolve_price_list(_, info, id: str):
    ctx = context_of(info)
    ctx.require(MANAGE)
    with ctx.reads() as session:
        try:
            return service.get_price_list(session, id)
        except BusinessError:
            return None


@price_list_type.field("channelSlug")
def resolve_channel_slug(price_list, info):
    if price_list.channel_id is None:
        return None
    slugs = _cache(info).get("channel_slugs")
    if slugs is None or price_list.channel_id not in slugs:  # one query per request for every channel
        with context_of(info).reads() as session:
            slugs = _cache(info)["channel_slugs"] = dict(session.exec(select(Channel.id, Channel.slug)).all())
    return slugs.get(price_list.channel_id)


@price_list_type.field("entries")
def resolve_entries(price_list, info):
    loaded = _cache(info).setdefault("entries", {})
    if price_list.id not in loaded:
        # The first list asks for the entries of every list of this request's answer at once.
        ids = {price_list.id, *_cache(info).get("list_ids", ())} - set(loaded)
        with context_of(info).reads() as session:
            rows = session.exec(
                select(PriceListEntry.price_list_id, ProductVariant.sku, PriceListEntry.min_quantity, PriceListEntry.price)
                .join(ProductVariant, ProductVariant.id == PriceListEntry.variant_id)
                .where(PriceListEntry.price_list_id.in_(sorted(ids)))
                .order_by(ProductVariant.sku, PriceListEntry.min_quantity)).all()
        for list_id in ids:
            loaded[list_id] = []
        for list_id, sku, min_quantity, price in rows:
            loaded[list_id].append((sku, min_quantity, price))
    return [{"sku": sku, "min_quantity": q, "price": money(Money(p, price_list.currency))}
            for sku, q, p in loaded[price_list.id]]


def _remember_lists(info, lists: list[PriceList]) -> list[PriceList]:
    _cache(info).setdefault("list_ids", set()).update(pl.id for pl in lists)
    return lists


def _list_input(input: dict[str, Any]) -> dict[str, Any]:
    values = dict(input)
    problems = []
    for key, field in (("valid_from", "validFrom"), ("valid_until", "validUntil")):
        try:
            values[key] = parse_time(values.get(key), field)
        except BusinessError as exc:
            problems.append(exc)
    if problems:
        raise BusinessErrors(problems)
    return values


@mutation.field("createPriceList")
@payload
def resolve_create(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    values = _list_input(input)
    return {"price_list": ctx.db.run(lambda session: service.create_price_list(session, **values))}


@mutation.field("updatePriceList")
@payload
def resolve_update(_, info, id: str, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    values = _list_input(input)
    return {"price_list": ctx.db.run(lambda session: service.update_price_list(session, id, **values))}


@mutation.field("setPriceListEntries")
@payload
def resolve_set_entries(_, info, price_list_id: str, entries: list[dict]):
    ctx = context_of(info)
    ctx.require(MANAGE)

    def work(session):
        written = service.set_price_list_entries(session, price_list_id, entries)
        price_list = service.get_price_list(session, price_list_id, field="priceListId")
        skus = {e["sku"] for e in entries}
        return price_list, [{"sku": sku, "min_quantity": entry.min_quantity, "price": money(entry_money)}
                            for sku, entry, entry_money in _written(session, written, skus, price_list.currency)]

    price_list, written = ctx.db.run(work)
    return {"price_list": price_list, "entries": written}


def _written(session, written: list[PriceListEntry], skus: set[str], currency: str):
    sku_of = dict(session.exec(select(ProductVariant.id, ProductVariant.sku).where(ProductVariant.sku.in_(sorted(skus)))).all())
    return [(sku_of[e.variant_id], e, Money(e.price, currency)) for e in written]


bindables = [query, mutation, variant_type, product_type, price_list_type, variant_price_type]
