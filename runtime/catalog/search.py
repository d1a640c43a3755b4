"""Product search and filtering, served by the database as one keyset page plus one count.

Ordering is ``(name, id)`` for browsing and text search alike: a stable keyset that pages
without gaps or repeats while products change (text search narrows the set; it does not rank).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, cast, exists, false, func, literal_column, or_, select as sa_select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Session, select

from runtime.catalog import search_index
from runtime.catalog.attributes import canonical_number
from runtime.catalog.errors import CatalogErrorCode as Code
from runtime.catalog.models import Attribute, Brand, Category, Product, ProductVariant
from runtime.catalog.reads import visible_products_clause
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import AmountError, parse_decimal
from runtime.search import check_search


@dataclass
class Page:
    #: ``(product, brand or None, category or None)`` in order, at most ``first + 1`` of them.
    rows: list[tuple[Product, Brand | None, Category | None]]
    total: int


def _price(value: Any, field: str, problems: list) -> Decimal | None:
    if value is None:
        return None
    try:
        number = parse_decimal(value, field)  # what the price columns hold, on both backends
    except AmountError as exc:
        if exc.reason in ("too_large", "too_precise"):
            problems.append(BusinessError(Code.INVALID_AMOUNT, str(exc), field=field))
            return None
        number = None
    if number is None or number < 0:
        problems.append(BusinessError(Code.INVALID_AMOUNT, f"{field}: expected a decimal number ≥ 0 like \"19.90\", "
                                      f"got {value!r}", field=field))
        return None
    return number


def _has_tag(dialect: str, tag: str):
    if dialect == "postgresql":
        return cast(Product.tags, JSONB).contains([tag])
    each = sa_select(literal_column("1")).select_from(func.json_each(Product.tags).table_valued("value"))
    return exists(each.where(literal_column("value") == tag))


def _attribute_clause(attribute: Attribute, values: list[str], field: str, problems: list):
    """Products whose own value, or an active variant's, is any of ``values``."""
    code = attribute.code
    if attribute.type == "boolean":
        wanted = {v.strip().lower() for v in values}
        if not wanted <= {"true", "false"}:
            problems.append(BusinessError(Code.INVALID_ATTRIBUTE_VALUE, f"{field}: attribute {code!r} is true or false",
                                          field=field))
            return None
        flags = [flag == "true" for flag in sorted(wanted)]

        def matches(column):
            return column[code].as_boolean().in_(flags)
    else:
        if attribute.type == "number":
            values = [canonical_number(v) or v for v in values]

        def matches(column):
            return column[code].as_string().in_(values)

    on_variant = exists().where(ProductVariant.product_id == Product.id, ProductVariant.is_active == true(),
                                matches(ProductVariant.attributes))
    return or_(matches(Product.attributes), on_variant)


def filter_clauses(session: Session, dialect: str, filter: dict[str, Any] | None, channel_id: int | None = None) -> list:
    """Where-clauses on :class:`Product` for a ``ProductFilter``; bad values raise BusinessErrors."""
    filter = filter or {}
    clauses: list = []
    problems: list[BusinessError] = []
    if filter.get("search"):
        try:
            words = check_search(filter["search"], Code.INVALID_SEARCH, "filter.search")
        except BusinessError as exc:
            raise BusinessErrors([exc]) from None
        if (match := search_index.match_clause(dialect, words)) is not None:
            clauses.append(match)
    if filter.get("category_slug"):
        path = session.exec(select(Category.path).where(Category.slug == filter["category_slug"])).first()
        # The subtree: every category whose path starts with this one's (unknown slug: nothing).
        subtree = select(Category.id).where(Category.path.like(f"{path}%")) if path else None
        clauses.append(Product.category_id.in_(subtree) if subtree is not None else false())
    if filter.get("brand_slug"):
        clauses.append(Product.brand_id.in_(select(Brand.id).where(Brand.slug == filter["brand_slug"])))
    for tag in filter.get("tags") or []:
        clauses.append(_has_tag(dialect, tag))
    wanted = filter.get("attributes") or []
    codes = {a["code"] for a in wanted}
    definitions = {a.code: a for a in session.exec(select(Attribute).where(Attribute.code.in_(codes)))} if codes else {}
    for i, given in enumerate(wanted):
        field = f"filter.attributes.{i}"
        attribute = definitions.get(given["code"])
        if attribute is None:
            problems.append(BusinessError(Code.UNKNOWN_ATTRIBUTE, f"{field}.code: no attribute {given['code']!r}",
                                          field=f"{field}.code"))
            continue
        clause = _attribute_clause(attribute, list(given["values"]), f"{field}.values", problems)
        if clause is not None:
            clauses.append(clause)
    low = _price(filter.get("price_min"), "filter.priceMin", problems)
    high = _price(filter.get("price_max"), "filter.priceMax", problems)
    if low is not None or high is not None:
        # One variant must satisfy both bounds: "a variant between 10 and 20", not one below and one above.
        bounds = [ProductVariant.product_id == Product.id, ProductVariant.is_active == true()]
        if low is not None:
            bounds.append(ProductVariant.base_price >= low)
        if high is not None:
            bounds.append(ProductVariant.base_price <= high)
        clauses.append(exists().where(*bounds))
    if filter.get("label"):
        from flask import current_app

        from runtime.labels.index import filter_clause  # the label index reads the catalog: imported here
        try:
            clauses.append(filter_clause(current_app, filter["label"], channel_id))
        except BusinessError as exc:
            problems.append(exc)
    if problems:
        raise BusinessErrors(problems)
    return clauses


def search_products(session: Session, *, channel_id: int | None, first: int, after: list | None = None,
                    filter: dict[str, Any] | None = None, at: datetime | None = None) -> Page:
    """The page after ``after`` (a ``[name, id]`` key) of products visible in ``channel_id``
    matching ``filter``, with the brand and category of each, and the total match count."""
    dialect = session.get_bind().dialect.name
    where = and_(visible_products_clause(channel_id, at), *filter_clauses(session, dialect, filter, channel_id))
    statement = (select(Product, Brand, Category)
                 .outerjoin(Brand, Brand.id == Product.brand_id)
                 .outerjoin(Category, Category.id == Product.category_id)
                 .where(where))
    if after is not None:
        name, last_id = after
        statement = statement.where(or_(Product.name > name, and_(Product.name == name, Product.id > last_id)))
    statement = statement.order_by(Product.name, Product.id).limit(first + 1)
    rows = [tuple(row) for row in session.exec(statement)]
    total = session.execute(sa_select(func.count()).select_from(Product).where(where)).scalar_one()
    return Page(rows=rows, total=int(total))


def cursor_key(product: Product) -> list:
    return [product.name, product.id]


def check_key(key: list) -> list:
    """A decoded cursor must be ``[name, id]``."""
    if len(key) != 2 or not isinstance(key[0], str) or not isinstance(key[1], int) or isinstance(key[1], bool):
        raise BusinessError(Code.INVALID_PAGE, "after: not a cursor this API returned", field="after")
    return key
