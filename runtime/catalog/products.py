"""Create and update products with their variants. Every problem is collected before writing."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from runtime.catalog import search_index
from runtime.catalog.attributes import typed_values
from runtime.catalog.errors import CatalogErrorCode as Code
from runtime.catalog.models import Attribute, Brand, Category, Product, ProductChannel, ProductVariant
from runtime.channels.models import Channel
from runtime.channels.precision import require_precision
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors

#: Lower-case letters and digits in words joined by single hyphens: ``red-shirt``.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 200
NAME_MAX = 300
#: Letters, digits, ``.``, ``_`` and ``-``: ``TS-RED-M``.
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TAG_MAX = 64

#: Fields :func:`update_product` accepts (variants are created with the product).
UPDATABLE = ("slug", "name", "description", "brand_slug", "category_slug", "tags", "attributes", "is_published")


def slug_problem(slug: Any, field: str = "slug", max_length: int = SLUG_MAX) -> BusinessError | None:
    if isinstance(slug, str) and len(slug) <= max_length and SLUG.match(slug):
        return None
    return BusinessError(Code.INVALID_SLUG, f"{field}: {slug!r} is not a slug: use lower-case letters, digits and "
                         f"single hyphens, at most {max_length} characters", field=field)


def name_problem(name: Any, field: str = "name", max_length: int = NAME_MAX) -> BusinessError | None:
    if isinstance(name, str) and name.strip() and len(name) <= max_length:
        return None
    return BusinessError(Code.INVALID_NAME, f"{field}: expected 1 to {max_length} characters", field=field)


def _lookup(session: Session, model, slug: str | None, field: str, problems: list) -> Any:
    if slug is None:
        return None
    row = session.exec(select(model).where(model.slug == slug)).first()
    if row is None:
        problems.append(BusinessError(Code.NOT_FOUND, f"{field}: no {model.__tablename__} {slug!r}", field=field))
    return row


def _tags(tags: list[str] | None, problems: list) -> list[str]:
    clean: list[str] = []
    for i, tag in enumerate(tags or []):
        if not isinstance(tag, str) or not tag.strip() or len(tag.strip()) > TAG_MAX:
            problems.append(BusinessError(Code.INVALID_TAG, f"tags.{i}: expected 1 to {TAG_MAX} characters", field=f"tags.{i}"))
        elif tag.strip() not in clean:
            clean.append(tag.strip())
    return clean


def _attribute_definitions(session: Session, values: list[dict | None]) -> dict[str, Attribute]:
    codes = {code for v in values for code in (v or {})}
    if not codes:
        return {}
    return {a.code: a for a in session.exec(select(Attribute).where(Attribute.code.in_(codes)))}


def _amount(value: Any, currency: str, field: str, problems: list) -> Decimal | None:
    try:
        amount = require_precision(value, currency, field).amount
    except BusinessError as exc:
        # The channels' codes and the catalog's share their names (INVALID_AMOUNT, TOO_MANY_DECIMALS).
        problems.append(exc)
        return None
    if amount < 0:
        problems.append(BusinessError(Code.INVALID_AMOUNT, f"{field}: must not be negative, got {value}", field=field))
        return None
    return amount


def _variants(session: Session, variants: list[dict], currency: str, definitions: dict[str, Attribute],
              problems: list) -> list[ProductVariant]:
    if not variants:
        problems.append(BusinessError(Code.NO_VARIANTS, "variants: list at least one variant", field="variants"))
        return []
    skus = [v.get("sku") for v in variants]
    taken = set(session.exec(select(ProductVariant.sku).where(ProductVariant.sku.in_([s for s in skus if isinstance(s, str)]))))
    rows: list[ProductVariant] = []
    for i, given in enumerate(variants):
        prefix, sku = f"variants.{i}", given.get("sku")
        if not isinstance(sku, str) or not SKU.match(sku):
            problems.append(BusinessError(Code.INVALID_SKU, f"{prefix}.sku: {sku!r} is not a SKU: use 1 to 64 letters, "
                                          "digits, '.', '_' or '-', starting with a letter or digit", field=f"{prefix}.sku"))
        elif sku in taken or skus.index(sku) != i:
            problems.append(BusinessError(Code.DUPLICATE_SKU, f"{prefix}.sku: SKU {sku!r} is already used", field=f"{prefix}.sku"))
        name = given.get("name") or ""
        if not isinstance(name, str) or len(name) > NAME_MAX:
            problems.append(BusinessError(Code.INVALID_NAME, f"{prefix}.name: at most {NAME_MAX} characters", field=f"{prefix}.name"))
        price = _amount(given.get("base_price"), currency, f"{prefix}.basePrice", problems)
        compare_at = given.get("compare_at_price")
        if compare_at is not None:
            compare_at = _amount(compare_at, currency, f"{prefix}.compareAtPrice", problems)
        weight = given.get("weight_grams")
        if weight is not None and (not isinstance(weight, int) or isinstance(weight, bool) or weight < 0):
            problems.append(BusinessError(Code.INVALID_WEIGHT, f"{prefix}.weightGrams: expected a whole number of grams "
                                          f"≥ 0, got {weight!r}", field=f"{prefix}.weightGrams"))
        attributes = typed_values(definitions, given.get("attributes"), f"{prefix}.attributes", problems)
        rows.append(ProductVariant(sku=sku, name=name, base_price=price, base_currency=currency,
                                   compare_at_price=compare_at, weight_grams=weight, position=i, attributes=attributes))
    return rows


def _channels(session: Session, slugs: list[str] | None, problems: list) -> list[Channel]:
    slugs = list(slugs or [])
    found = {c.slug: c for c in session.exec(select(Channel).where(Channel.slug.in_(slugs)))} if slugs else {}
    for i, slug in enumerate(slugs):
        if slug not in found:
            problems.append(BusinessError(Code.NOT_FOUND, f"channels.{i}: no channel {slug!r}", field=f"channels.{i}"))
    return [found[s] for s in dict.fromkeys(slugs) if s in found]


def create_product(session: Session, *, slug: str, name: str, base_currency: str, description: str = "",
                   brand_slug: str | None = None, category_slug: str | None = None, tags: list[str] | None = None,
                   attributes: dict[str, Any] | None = None, variants: list[dict] | None = None,
                   channels: list[str] | None = None, is_published: bool = True) -> Product:
    """A product with its variants (``{sku, name, base_price, compare_at_price, attributes,
    weight_grams}``; prices in ``base_currency``), visible in ``channels`` from now on."""
    problems: list[BusinessError] = []
    bad_slug = slug_problem(slug)
    problems += [p for p in (bad_slug, name_problem(name)) if p]
    if bad_slug is None and session.exec(select(Product.id).where(Product.slug == slug)).first() is not None:
        problems.append(BusinessError(Code.DUPLICATE_SLUG, f"slug: a product {slug!r} already exists", field="slug"))
    brand = _lookup(session, Brand, brand_slug, "brandSlug", problems)
    category = _lookup(session, Category, category_slug, "categorySlug", problems)
    clean_tags = _tags(tags, problems)
    definitions = _attribute_definitions(session, [attributes, *((v or {}).get("attributes") for v in variants or [])])
    typed = typed_values(definitions, attributes, "attributes", problems)
    variant_rows = _variants(session, list(variants or []), base_currency, definitions, problems)
    channel_rows = _channels(session, channels, problems)
    if problems:
        raise BusinessErrors(problems)
    now = utcnow()
    product = Product(slug=slug, name=name, description=description or "", brand_id=brand.id if brand else None,
                      category_id=category.id if category else None, tags=clean_tags, attributes=typed,
                      is_published=is_published, created_at=now, updated_at=now)
    session.add(product)
    session.flush()
    for row in variant_rows:
        row.product_id = product.id
        session.add(row)
    for channel in channel_rows:
        session.add(ProductChannel(product_id=product.id, channel_id=channel.id))
    search_index.reindex(session, [product.id])
    return product


def get_product(session: Session, product_id: Any, field: str = "id") -> Product:
    try:
        product = session.get(Product, int(product_id))
    except (TypeError, ValueError):
        product = None
    if product is None:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no product {product_id!r}", field=field)
    return product


def update_product(session: Session, product_id: Any, **changes: Any) -> Product:
    """Change the given fields (``None`` leaves a field as it is); ``brand_slug``/``category_slug``
    ``""`` clear them. Every problem is collected before writing."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise TypeError(f"update_product: unknown fields {unknown}")
    product = get_product(session, product_id)
    changes = {k: v for k, v in changes.items() if v is not None}
    problems: list[BusinessError] = []
    if "slug" in changes:
        problem = slug_problem(changes["slug"])
        if problem:
            problems.append(problem)
        elif session.exec(select(Product.id).where(Product.slug == changes["slug"], Product.id != product.id)).first():
            problems.append(BusinessError(Code.DUPLICATE_SLUG, f"slug: a product {changes['slug']!r} already exists", field="slug"))
    if "name" in changes and (problem := name_problem(changes["name"])):
        problems.append(problem)
    brand = _lookup(session, Brand, changes.get("brand_slug") or None, "brandSlug", problems)
    category = _lookup(session, Category, changes.get("category_slug") or None, "categorySlug", problems)
    tags = _tags(changes.get("tags"), problems)
    typed = typed_values(_attribute_definitions(session, [changes.get("attributes")]), changes.get("attributes"),
                         "attributes", problems)
    if problems:
        raise BusinessErrors(problems)
    for key in ("slug", "name", "description", "is_published"):
        if key in changes:
            setattr(product, key, changes[key])
    if "brand_slug" in changes:
        product.brand_id = brand.id if brand else None
    if "category_slug" in changes:
        product.category_id = category.id if category else None
    if "tags" in changes:
        product.tags = tags
    if "attributes" in changes:
        product.attributes = typed
    product.updated_at = utcnow()
    session.add(product)
    search_index.reindex(session, [product.id])
    return product
