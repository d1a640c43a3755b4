"""The per-request catalog cache: whatever a list resolver loaded in bulk, field resolvers read.

``info.context.__dict__["vectis.catalog"]`` holds ``products``, ``brands``, ``categories``
(id → row), ``variants_by_product`` (product id → active variants in position order; the pricing
module's batch reads it too), ``product_translations`` / ``category_translations`` (id → locale
→ row), ``attributes`` (code → Attribute) and ``locales`` (the request's locale chain). A field
resolver that misses loads what is missing for every product or category seen so far, in one
query, so a page never costs a query per row.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import select

from runtime.catalog.locale import locale_chain, pick
from runtime.catalog.models import (Attribute, Brand, Category, CategoryTranslation, Product, ProductTranslation,
                                    ProductVariant)
from runtime.graphql.context import context_of

KEY = "vectis.catalog"


def cache(info) -> dict[str, Any]:
    return info.context.__dict__.setdefault(KEY, {})


def _session(info):
    return context_of(info).reads()


def remember(info, products: Iterable[Product], brands: Iterable[Brand | None] = (),
             categories: Iterable[Category | None] = ()) -> None:
    store = cache(info)
    store.setdefault("products", {}).update({p.id: p for p in products})
    store.setdefault("brands", {}).update({b.id: b for b in brands if b is not None})
    store.setdefault("categories", {}).update({c.id: c for c in categories if c is not None})


def load_variants_for(info, product_ids: Iterable[int]) -> None:
    """Active variants of ``product_ids`` not loaded yet, in one query."""
    by_product = cache(info).setdefault("variants_by_product", {})
    missing = sorted({i for i in product_ids if i not in by_product})
    if not missing:
        return
    with _session(info) as session:
        rows = session.exec(select(ProductVariant).where(ProductVariant.product_id.in_(missing),
                                                         ProductVariant.is_active == True)  # noqa: E712
                            .order_by(ProductVariant.product_id, ProductVariant.position, ProductVariant.id)).all()
    for product_id in missing:
        by_product[product_id] = []
    for variant in rows:
        by_product[variant.product_id].append(variant)


def variants_of(info, product: Product) -> list[ProductVariant]:
    by_product = cache(info).setdefault("variants_by_product", {})
    if product.id not in by_product:
        load_variants_for(info, [*cache(info).get("products", {}), product.id])
    return by_product[product.id]


def product_of(info, product_id: int) -> Product:
    products = cache(info).setdefault("products", {})
    if product_id not in products:
        with _session(info) as session:
            products[product_id] = session.get(Product, product_id)
    return products[product_id]


def brand_of(info, brand_id: int | None) -> Brand | None:
    if brand_id is None:
        return None
    brands = cache(info).setdefault("brands", {})
    if brand_id not in brands:
        with _session(info) as session:
            brands[brand_id] = session.get(Brand, brand_id)
    return brands[brand_id]


def category_tree(info) -> dict[int, Category]:
    """Every category (one query per request): parents, children and paths resolve from it."""
    store = cache(info)
    if "tree" not in store:
        with _session(info) as session:
            store["tree"] = {c.id: c for c in session.exec(select(Category).order_by(Category.position, Category.name))}
        store.setdefault("categories", {}).update(store["tree"])
    return store["tree"]


def category_of(info, category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    categories = cache(info).setdefault("categories", {})
    if category_id not in categories:
        category_tree(info)
    return categories.get(category_id)


def attributes(info) -> dict[str, Attribute]:
    store = cache(info)
    if "attributes" not in store:
        with _session(info) as session:
            store["attributes"] = {a.code: a for a in session.exec(select(Attribute))}
    return store["attributes"]


def attribute_values(info, values: dict[str, Any]) -> list[dict[str, Any]]:
    if not values:
        return []
    known = attributes(info)
    return [{"code": code, "name": known[code].name if code in known else code, "value": value}
            for code, value in values.items()]


def locales(info) -> list[str]:
    store = cache(info)
    if "locales" not in store:
        store["locales"] = locale_chain(context_of(info).request)
    return store["locales"]


def _translations(info, kind: str, model, key_column, ids: Iterable[int], wanted: int) -> dict[str, Any]:
    chain = locales(info)
    loaded = cache(info).setdefault(kind, {})
    if wanted not in loaded:
        missing = sorted({*ids, wanted} - set(loaded))
        with _session(info) as session:
            rows = session.exec(select(model).where(key_column.in_(missing), model.locale.in_(chain))).all()
        for i in missing:
            loaded[i] = {}
        for row in rows:
            loaded[getattr(row, key_column.key)][row.locale] = row
    return loaded[wanted]


def product_text(info, product: Product, field: str) -> str:
    """``name`` or ``description`` in the request's locale chain, else the product's own."""
    if not locales(info):
        return getattr(product, field)
    rows = _translations(info, "product_translations", ProductTranslation, ProductTranslation.product_id,
                         cache(info).get("products", {}), product.id)
    # Field by field: a de-AT row with only a name still takes its description from de.
    texts = {locale: getattr(row, field) for locale, row in rows.items() if getattr(row, field)}
    return pick(texts, locales(info)) or getattr(product, field)


def category_name(info, category: Category) -> str:
    if not locales(info):
        return category.name
    rows = _translations(info, "category_translations", CategoryTranslation, CategoryTranslation.category_id,
                         cache(info).get("categories", {}), category.id)
    row = pick(rows, locales(info))
    return row.name if row is not None else category.name
