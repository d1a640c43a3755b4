"""Reads other modules call: which products a channel shows, and variants with their products."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists, or_, true
from sqlmodel import Session, select

from runtime.catalog.models import Product, ProductChannel, ProductVariant
from runtime.clock import utcnow


def visible_products_clause(channel_id: int | None, at: datetime | None = None):
    """A where-clause on :class:`Product`: published, and when ``channel_id`` is given, listed in
    that channel with ``at`` (default now) inside its window (``visible_from`` inclusive,
    ``visible_until`` exclusive; an open end is unbounded)."""
    published = Product.is_published == true()
    if channel_id is None:
        return published
    at = at or utcnow()
    listed = exists().where(
        ProductChannel.product_id == Product.id,
        ProductChannel.channel_id == channel_id,
        or_(ProductChannel.visible_from.is_(None), ProductChannel.visible_from <= at),
        or_(ProductChannel.visible_until.is_(None), ProductChannel.visible_until > at),
    )
    return and_(published, listed)


def load_variants(session: Session, *, ids: Iterable[int] = (), skus: Iterable[str] = (),
                  channel_id: int | None = None, at: datetime | None = None
                  ) -> dict[int, tuple[ProductVariant, Product]]:
    """Active variants (by id or SKU) of published products, visible in ``channel_id`` at ``at``
    when a channel is given, keyed by variant id; missing ones are absent. One query."""
    ids, skus = {int(i) for i in ids}, {str(s) for s in skus}
    if not ids and not skus:
        return {}
    wanted = []
    if ids:
        wanted.append(ProductVariant.id.in_(ids))
    if skus:
        wanted.append(ProductVariant.sku.in_(skus))
    statement = (select(ProductVariant, Product).join(Product, Product.id == ProductVariant.product_id)
                 .where(or_(*wanted), ProductVariant.is_active == true(), visible_products_clause(channel_id, at)))
    return {variant.id: (variant, product) for variant, product in session.exec(statement)}


def find_product(session: Session, *, id: int | None = None, slug: str | None = None,
                 channel_id: int | None = None, at: datetime | None = None) -> Product | None:
    """A product visible in ``channel_id`` (published, when no channel) by id or slug, else None."""
    if id is None and slug is None:
        return None
    statement = select(Product).where(visible_products_clause(channel_id, at))
    statement = statement.where(Product.id == id) if id is not None else statement.where(Product.slug == slug)
    return session.exec(statement).first()
