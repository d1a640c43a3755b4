"""Quick order rows resolved against the channel's catalog: each row's identifier is a SKU
(any case) or the exact name of a product, a variant, or both (``Mug Blue``); a name several
variants share is answered with them as alternatives. The answer is what ``cartBulkLookup`` and
``bulkAddToCart`` take (SKU, quantity, package, expected multiplier); nothing is written."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, true
from sqlmodel import Session, select

from runtime.carts.errors import CheckoutErrorCode as Code
from runtime.catalog.models import Product, ProductVariant
from runtime.catalog.reads import visible_products_clause
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.packaging import service as packaging
from runtime.quick_order.sheet import Sheet, SheetRow


@dataclass
class EntryRow:
    source: SheetRow
    where: str
    variant: ProductVariant | None = None
    alternatives: list[ProductVariant] = field(default_factory=list)
    package: str | None = None

    @property
    def errors(self) -> list[BusinessError]:
        return self.source.errors

    @property
    def lookup_row(self) -> dict | None:
        """A ``CartBulkRowInput`` when the row resolved, else None."""
        if self.variant is None or self.errors:
            return None
        return {"sku": self.variant.sku, "quantity": self.source.quantity, "package": self.package,
                "multiplier": self.source.multiplier}


def resolve(session: Session, channel_id: int, sheet: Sheet, where: str) -> list[EntryRow]:
    rows = [EntryRow(row, f"{where}.{row.row}") for row in sheet.rows]
    wanted = {row.source.identifier.lower() for row in rows if row.source.identifier}
    candidates = _candidates(session, channel_id, wanted) if wanted else []
    by_sku = {variant.sku.lower(): (variant, product) for variant, product in candidates}
    by_name: dict[str, list[tuple]] = {}
    for variant, product in candidates:
        for name in {product.name.lower(), (variant.name or "").lower(), f"{product.name} {variant.name}".lower()}:
            by_name.setdefault(name, []).append((variant, product))
    ladders = packaging.ladders(session, {product.id for _variant, product in candidates}) if candidates else {}
    for row in rows:
        key = row.source.identifier.lower()
        if not key:
            continue
        found = [by_sku[key]] if key in by_sku else by_name.get(key, [])
        if not found:
            row.errors.append(BusinessError(Code.NOT_FOUND, f"row {row.source.row}: no SKU or product named "
                                            f"{row.source.identifier!r} is sold in this channel", field=row.where))
        elif len(found) > 1:
            row.alternatives = sorted((variant for variant, _product in found), key=lambda v: v.sku)
            skus = ", ".join(variant.sku for variant in row.alternatives)
            row.errors.append(BusinessError(Code.INVALID_INPUT, f"row {row.source.row}: {row.source.identifier!r} names "
                                            f"{len(found)} variants ({skus}): give the SKU", field=row.where))
        else:
            row.variant, product = found[0]
            row.package = _package(row.source.package, ladders.get(product.id, {}))
    return rows


def _candidates(session: Session, channel_id: int, wanted: set[str]) -> list[tuple[ProductVariant, Product]]:
    """One query: active variants visible in the channel whose SKU or name is one of ``wanted``."""
    statement = (select(ProductVariant, Product).join(Product, Product.id == ProductVariant.product_id)
                 .where(ProductVariant.is_active == true(), visible_products_clause(channel_id, utcnow()),
                        or_(func.lower(ProductVariant.sku).in_(wanted), func.lower(Product.name).in_(wanted),
                            func.lower(ProductVariant.name).in_(wanted),
                            func.lower(Product.name + " " + ProductVariant.name).in_(wanted)))
                 .order_by(ProductVariant.id))
    return list(session.exec(statement))


def _package(given: str | None, ladder: dict[str, int]) -> str | None:
    """The ladder's slug for what the row wrote (``Boxes`` → ``box``); unknown ones pass through
    for the lookup to answer UNKNOWN_PACKAGE."""
    if given is None:
        return None
    for slug in (given, given.removesuffix("es"), given.removesuffix("s")):
        if slug in ladder:
            return slug
    return given
