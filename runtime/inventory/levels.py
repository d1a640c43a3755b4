"""Stock as a product and variant fact (labels, listings): reads only, one statement each."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from runtime.catalog.models import Product, ProductVariant
from runtime.inventory.models import StockLevel


def available_by_variant(session: Session, variant_ids: Iterable[int]) -> dict[int, int]:
    """``variant_id → on_hand - held - confirmed`` over all warehouses, for the variants of
    tracked products (negative within an allowed backorder; 0 without any stock row). Untracked
    and unknown variants are absent. One statement for any number of ids."""
    ids = sorted({int(i) for i in variant_ids})
    if not ids:
        return {}
    available = func.coalesce(func.sum(StockLevel.on_hand - StockLevel.reserved), 0)
    statement = (select(ProductVariant.id, available)
                 .join(Product, Product.id == ProductVariant.product_id)
                 .outerjoin(StockLevel, StockLevel.variant_id == ProductVariant.id)
                 .where(ProductVariant.id.in_(ids), Product.track_inventory.is_(True))
                 .group_by(ProductVariant.id))
    return {variant_id: int(amount) for variant_id, amount in session.execute(statement)}
