"""Product facts (``schemas/facts/product.schema.json``) built in bulk for label predicates.

The rows come from the caller (a request's loader cache, or the index job's catalog read); this
module adds stock and 30-day sales, each one statement per chunk of ids however many products,
and only when some label reads them (``needs``: the top-level fields read, ``None`` for all).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from runtime.catalog.models import Brand, Category, Product, ProductVariant
from runtime.inventory.levels import available_by_variant
from runtime.orders.models import Order, OrderLine

log = logging.getLogger(__name__)

#: Ids per ``IN (…)`` list: below SQLite's 32,766 bound parameters with room to spare.
CHUNK = 10_000
#: Order states whose lines do not count as sales.
NOT_SOLD = ("draft", "cancelled")
#: The window of ``sales_30d``.
SALES_WINDOW = timedelta(days=30)


@dataclass
class CatalogRows:
    """What facts are made of: products, their active variants in position order, and the brands
    and categories (the whole tree, for ``categories``) they refer to."""

    products: Sequence[Product]
    variants: dict[int, list[ProductVariant]]
    brands: dict[int, Brand] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSource:
    """A pack's values for its field ``<pack>.<name>`` of the product or variant fact: what it
    registered in the ``fact_field`` slot with a ``load(session, ids) -> {id: value}``."""

    pack: str
    name: str
    fact: str
    load: Callable[[Session, list[int]], dict[int, Any]]


def field_sources(app) -> list[FieldSource]:
    """The registered pack fields of products and variants that come with their values."""
    registry = app.extensions["vectis.registry"]
    return [FieldSource(entry.pack, entry.name, entry.value["fact"], entry.value["load"])
            for entry in registry.entries("fact_field")
            if entry.value.get("load") is not None and entry.value["fact"] in ("product", "variant")]


def _pack_values(session: Session, source: FieldSource, ids: list[int]) -> dict[int, Any]:
    """The source's values, chunked; a failing pack is logged and supplies nothing (its labels
    do not apply), rather than failing the page or the index."""
    found: dict[int, Any] = {}
    try:
        for part in chunks(ids):
            found.update(source.load(session, list(part)) or {})
    except Exception:  # a pack's fault must not take the catalog down
        log.exception("pack field %s.%s: loading values failed", source.pack, source.name)
        return {}
    return found


def _add_pack_fields(session: Session, facts: list[dict[str, Any]], rows: CatalogRows,
                     sources: Sequence[FieldSource], wants: Callable[[str], bool]) -> None:
    for source in sources:
        if source.fact == "product" and wants(source.pack):
            values = _pack_values(session, source, [p.id for p in rows.products])
            for fact, product in zip(facts, rows.products):
                if values.get(product.id) is not None:
                    fact.setdefault(source.pack, {})[source.name] = values[product.id]
        elif source.fact == "variant" and wants("variants"):
            values = _pack_values(session, source, [v.id for p in rows.products for v in rows.variants.get(p.id, ())])
            for fact in facts:
                for variant in fact["variants"]:
                    if values.get(int(variant["id"])) is not None:
                        variant.setdefault(source.pack, {})[source.name] = values[int(variant["id"])]


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def load_catalog(session: Session, product_ids: Iterable[int] | None = None) -> CatalogRows:
    """Every product (or those of ``product_ids``) with what their facts need: four statements
    for the whole catalog."""
    ids = None if product_ids is None else sorted(set(product_ids))
    products: list[Product] = []
    variants: dict[int, list[ProductVariant]] = {}
    active = ProductVariant.is_active == True  # noqa: E712
    order = (ProductVariant.product_id, ProductVariant.position, ProductVariant.id)
    if ids is None:
        products = list(session.execute(select(Product).order_by(Product.id)).scalars())
        rows = session.execute(select(ProductVariant).where(active).order_by(*order)).scalars()
    else:
        rows = []
        for part in chunks(ids):
            products += session.execute(select(Product).where(Product.id.in_(part))
                                     .order_by(Product.id)).scalars()
            rows += session.execute(select(ProductVariant).where(ProductVariant.product_id.in_(part), active)
                                 .order_by(*order)).scalars()
    for variant in rows:
        variants.setdefault(variant.product_id, []).append(variant)
    brands = {b.id: b for b in session.execute(select(Brand)).scalars()}
    categories = {c.id: c for c in session.execute(select(Category)).scalars()}
    return CatalogRows(products, variants, brands, categories)


def sales_30d(session: Session, product_ids: Sequence[int] | None, now: datetime) -> dict[int, int]:
    """Base units sold per product in orders created in the 30 days before ``now`` (drafts and
    cancelled orders do not count); ``None``: every product."""
    sold = func.sum(OrderLine.quantity * OrderLine.package_multiplier)
    statement = (select(ProductVariant.product_id, sold)
                 .join(OrderLine, OrderLine.variant_id == ProductVariant.id)
                 .join(Order, Order.id == OrderLine.order_id)
                 .where(Order.created_at >= now - SALES_WINDOW, Order.state.notin_(NOT_SOLD))
                 .group_by(ProductVariant.product_id))
    if product_ids is None:
        return {pid: int(n) for pid, n in session.execute(statement)}
    found: dict[int, int] = {}
    for part in chunks(sorted(product_ids)):
        found.update({pid: int(n) for pid, n in
                      session.execute(statement.where(ProductVariant.product_id.in_(part)))})
    return found


def _stock(session: Session, variant_ids: list[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for part in chunks(variant_ids):
        found.update(available_by_variant(session, part))
    return found


def _number(value) -> float | None:
    return None if value is None else float(value)


def _variant_fact(variant: ProductVariant, product: Product, stock: dict[int, int],
                  default: bool) -> dict[str, Any]:
    fact: dict[str, Any] = {"id": str(variant.id), "sku": variant.sku, "product_id": str(product.id),
                            "name": variant.name, "price": float(variant.base_price),
                            "currency": variant.base_currency, "is_default": default,
                            "options": {k: v if isinstance(v, str) else str(v)
                                        for k, v in (variant.attributes or {}).items()}}
    optional = {"compare_at_price": _number(variant.compare_at_price),
                "weight_grams": variant.weight_grams, "stock": stock.get(variant.id)}
    fact.update({k: v for k, v in optional.items() if v is not None})
    return fact


def _category_slugs(category: Category | None, categories: dict[int, Category]) -> list[str]:
    if category is None:
        return []
    ids = [int(i) for i in category.path.strip("/").split("/") if i]
    return [categories[i].slug for i in ids if i in categories]


def product_facts(session: Session, rows: CatalogRows, now: datetime, *,
                  needs: frozenset[str] | None = None, whole_catalog: bool = False,
                  sources: Sequence[FieldSource] = ()) -> list[dict[str, Any]]:
    """One fact per product of ``rows``, in order. ``whole_catalog``: the rows are every product,
    so sales are read without an id list. ``sources``: packs' fields with their values
    (:func:`field_sources`), read only when some label reads them."""
    wants = (lambda name: True) if needs is None else needs.__contains__
    variant_ids = [v.id for p in rows.products for v in rows.variants.get(p.id, ())]
    stock = _stock(session, variant_ids) if wants("stock") or wants("variants") else {}
    sales = {}
    if wants("sales_30d"):
        sales = sales_30d(session, None if whole_catalog else [p.id for p in rows.products], now)
    facts = []
    for product in rows.products:
        variants = rows.variants.get(product.id, [])
        category = rows.categories.get(product.category_id) if product.category_id else None
        brand = rows.brands.get(product.brand_id) if product.brand_id else None
        fact: dict[str, Any] = {
            "id": str(product.id), "slug": product.slug, "name": product.name,
            "status": "active" if product.is_published else "draft",
            "tags": list(product.tags or ()), "attributes": dict(product.attributes or {}),
            "created_at": product.created_at.isoformat(),
            "age_days": (now - product.created_at).days,
            "variants": [_variant_fact(v, product, stock, i == 0) for i, v in enumerate(variants)],
        }
        if wants("sales_30d"):
            fact["sales_30d"] = sales.get(product.id, 0)
        if category is not None:
            fact["category"] = category.slug
            fact["categories"] = _category_slugs(category, rows.categories)
        if brand is not None:
            fact["brand"] = brand.slug
        if variants:
            _price_fields(fact, variants, stock)
        facts.append(fact)
    _add_pack_fields(session, facts, rows, sources, wants)
    return facts


def _price_fields(fact: dict[str, Any], variants: list[ProductVariant], stock: dict[int, int]) -> None:
    """Price, compare-at price and currency of the cheapest variant; the default (first)
    variant's SKU and weight; stock summed over the tracked variants (absent when none is)."""
    cheapest = min(variants, key=lambda v: (v.base_price, v.position, v.id))
    fact.update(sku=variants[0].sku, price=float(cheapest.base_price), currency=cheapest.base_currency)
    if cheapest.compare_at_price is not None:
        fact["compare_at_price"] = float(cheapest.compare_at_price)
    if variants[0].weight_grams is not None:
        fact["weight_grams"] = variants[0].weight_grams
    tracked = [stock[v.id] for v in variants if v.id in stock]
    if tracked:
        fact["stock"] = sum(tracked)
