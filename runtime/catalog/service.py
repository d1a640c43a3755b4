"""Staff management of the catalog: categories, brands, attributes, products (see
:mod:`runtime.catalog.products`), translations and per-channel visibility. Validators collect
every problem before answering; nothing is written on a refusal."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, delete, select

from runtime.catalog import search_index
from runtime.catalog.attributes import TYPES
from runtime.catalog.errors import CatalogErrorCode as Code
from runtime.catalog.locale import normalize
from runtime.catalog.models import (Attribute, Brand, Category, CategoryTranslation, Product, ProductChannel,
                                    ProductTranslation)
from runtime.catalog.products import (get_product, name_problem, slug_problem, create_product,  # noqa: F401
                                      update_product)
from runtime.catalog.reads import find_product, load_variants, visible_products_clause  # noqa: F401
from runtime.channels.models import Channel
from runtime.errors import BusinessError, BusinessErrors

CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CATEGORY_NAME_MAX = 200


def _duplicate(session: Session, model, column, value, field: str, code: Code) -> BusinessError | None:
    if session.exec(select(model.id).where(column == value)).first() is None:
        return None
    noun = model.__tablename__
    return BusinessError(code, f"{field}: {'an' if noun[0] in 'aeiou' else 'a'} {noun} {value!r} already exists", field=field)


def _raise(problems: list[BusinessError | None]) -> None:
    problems = [p for p in problems if p is not None]
    if problems:
        raise BusinessErrors(problems)


def get_category(session: Session, slug: str, field: str = "slug") -> Category:
    category = session.exec(select(Category).where(Category.slug == slug)).first()
    if category is None:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no category {slug!r}", field=field)
    return category


def create_category(session: Session, *, slug: str, name: str, description: str = "",
                    parent_slug: str | None = None, position: int = 0) -> Category:
    """A category under ``parent_slug`` (a root without one); its ``path`` is its parent's plus its id."""
    problems = [slug_problem(slug, max_length=128), name_problem(name, max_length=CATEGORY_NAME_MAX)]
    if problems[0] is None:
        problems.append(_duplicate(session, Category, Category.slug, slug, "slug", Code.DUPLICATE_SLUG))
    parent = None
    if parent_slug is not None:
        try:
            parent = get_category(session, parent_slug, "parentSlug")
        except BusinessError as exc:
            problems.append(exc)
    _raise(problems)
    category = Category(slug=slug, name=name, description=description or "", position=position,
                        parent_id=parent.id if parent else None)
    session.add(category)
    session.flush()  # the id is part of the path
    category.path = f"{parent.path if parent else '/'}{category.id}/"
    session.add(category)
    session.flush()
    return category


def create_brand(session: Session, *, slug: str, name: str) -> Brand:
    problems = [slug_problem(slug, max_length=128), name_problem(name, max_length=200)]
    if problems[0] is None:
        problems.append(_duplicate(session, Brand, Brand.slug, slug, "slug", Code.DUPLICATE_SLUG))
    _raise(problems)
    brand = Brand(slug=slug, name=name)
    session.add(brand)
    session.flush()
    return brand


def create_attribute(session: Session, *, code: str, name: str, type: str, choices: list[str] | None = None) -> Attribute:
    """A typed attribute: ``text``, ``number``, ``boolean`` or ``select`` (which needs ``choices``)."""
    problems: list[BusinessError | None] = [name_problem(name, max_length=200)]
    if not isinstance(code, str) or not CODE.match(code):
        problems.append(BusinessError(Code.INVALID_CODE, f"code: {code!r} is not an attribute code: use lower-case "
                                      "letters, digits and underscores, starting with a letter, at most 64", field="code"))
    else:
        problems.append(_duplicate(session, Attribute, Attribute.code, code, "code", Code.DUPLICATE_CODE))
    choices = list(dict.fromkeys(choices or []))
    if type not in TYPES:
        problems.append(BusinessError(Code.INVALID_ATTRIBUTE_TYPE, f"type: expected one of {', '.join(TYPES)}, got {type!r}",
                                      field="type"))
    elif type == "select" and (not choices or not all(isinstance(c, str) and c.strip() for c in choices)):
        problems.append(BusinessError(Code.INVALID_CHOICES, "choices: a select attribute needs at least one non-empty choice",
                                      field="choices"))
    elif type != "select" and choices:
        problems.append(BusinessError(Code.INVALID_CHOICES, f"choices: only a select attribute has choices, not a {type} one",
                                      field="choices"))
    _raise(problems)
    attribute = Attribute(code=code, name=name, type=type, choices=choices)
    session.add(attribute)
    session.flush()
    return attribute


def _locale(locale: str) -> str:
    normalized = normalize(locale)
    if normalized is None:
        raise BusinessError(Code.INVALID_LOCALE, f"locale: {locale!r} is not a language tag like 'de' or 'de-AT'",
                            field="locale")
    return normalized


def set_product_translation(session: Session, product_id: Any, *, locale: str, name: str,
                            description: str = "") -> ProductTranslation:
    """Create or replace the product's ``locale`` texts (search finds them too)."""
    problems: list[BusinessError | None] = [name_problem(name)]
    product = None
    try:
        product = get_product(session, product_id, "productId")
    except BusinessError as exc:
        problems.append(exc)
    try:
        locale = _locale(locale)
    except BusinessError as exc:
        problems.append(exc)
    _raise(problems)
    row = session.get(ProductTranslation, (product.id, locale)) or ProductTranslation(product_id=product.id, locale=locale)
    row.name, row.description = name, description or ""
    session.add(row)
    search_index.reindex(session, [product.id])
    return row


def set_category_translation(session: Session, category_slug: str, *, locale: str, name: str) -> CategoryTranslation:
    problems: list[BusinessError | None] = [name_problem(name, max_length=CATEGORY_NAME_MAX)]
    category = None
    try:
        category = get_category(session, category_slug, "categorySlug")
    except BusinessError as exc:
        problems.append(exc)
    try:
        locale = _locale(locale)
    except BusinessError as exc:
        problems.append(exc)
    _raise(problems)
    row = session.get(CategoryTranslation, (category.id, locale)) or CategoryTranslation(category_id=category.id, locale=locale)
    row.name = name
    session.add(row)
    session.flush()
    return row


def set_product_channels(session: Session, product_id: Any, channels: list[dict]) -> Product:
    """Replace where the product is visible: ``[{channel_slug, visible_from, visible_until}]``
    (open ends unbounded; ``visible_until`` exclusive)."""
    problems: list[BusinessError | None] = []
    product = None
    try:
        product = get_product(session, product_id, "productId")
    except BusinessError as exc:
        problems.append(exc)
    slugs = [c.get("channel_slug") for c in channels]
    found = {c.slug: c for c in session.exec(select(Channel).where(Channel.slug.in_(slugs)))} if slugs else {}
    rows: dict[int, ProductChannel] = {}
    for i, given in enumerate(channels):
        field = f"channels.{i}"
        channel = found.get(given.get("channel_slug"))
        if channel is None:
            problems.append(BusinessError(Code.NOT_FOUND, f"{field}.channelSlug: no channel {given.get('channel_slug')!r}",
                                          field=f"{field}.channelSlug"))
            continue
        start, end = given.get("visible_from"), given.get("visible_until")
        if any(isinstance(t, datetime) and t.tzinfo is None for t in (start, end)):
            problems.append(BusinessError(Code.INVALID_WINDOW, f"{field}: times need a zone", field=field))
        elif start is not None and end is not None and end <= start:
            problems.append(BusinessError(Code.INVALID_WINDOW, f"{field}.visibleUntil: must be after visibleFrom",
                                          field=f"{field}.visibleUntil"))
        elif channel.id in rows:
            problems.append(BusinessError(Code.INVALID_WINDOW, f"{field}.channelSlug: channel {channel.slug!r} is listed twice",
                                          field=f"{field}.channelSlug"))
        else:
            rows[channel.id] = ProductChannel(channel_id=channel.id, visible_from=start, visible_until=end)
    _raise(problems)
    session.exec(delete(ProductChannel).where(ProductChannel.product_id == product.id))
    for row in rows.values():
        row.product_id = product.id
        session.add(row)
    session.flush()
    return product
