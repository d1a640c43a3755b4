"""``pushExternalStock``: an ERP reports stock per SKU, idempotent and ordered.

Every item is checked first (an unknown SKU, a negative quantity, a time without a zone, a SKU
twice): any problem refuses the whole push and nothing changes. Then each item, by the ERP's own
``at`` time:

* a tracked product's variant: ``on_hand`` of the warehouse row is set by a conditional
  ``UPDATE … WHERE pushed_at IS NULL OR pushed_at < :at`` (``APPLIED``); an equal time is a replay
  (``DUPLICATE``), an older one is ignored (``STALE``). On hand below what is reserved flags the
  orders holding it (drift).
* an untracked one: only ``Variant.external_stock_snapshot`` is recorded, for audit
  (``RECORDED``), under the same ordering rule (the variant row is locked to compare).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, select

from runtime.catalog.models import Product, ProductVariant
from runtime.errors import BusinessError, BusinessErrors
from runtime.graphql.values import aware_time
from runtime.inventory.errors import InventoryErrorCode as Code
from runtime.inventory.holds import flag_orders_at_risk
from runtime.inventory.models import StockLevel, Warehouse
from runtime.inventory.service import check_count

#: Items in one push.
MAX_ITEMS = 1000
APPLIED, RECORDED, DUPLICATE, STALE = "APPLIED", "RECORDED", "DUPLICATE", "STALE"


@dataclass(frozen=True)
class PushResult:
    sku: str
    status: str
    on_hand: int
    message: str


def push_external_stock(session: Session, values: dict[str, Any]) -> list[PushResult]:
    store, items = _checked(session, values)
    results = []
    for index, (sku, quantity, at, variant, tracked) in enumerate(items):
        if tracked:
            results.append(_apply(session, store, sku, quantity, at, variant))
        else:
            results.append(_record(session, store, sku, quantity, at, variant))
    return results


def _checked(session: Session, values: dict[str, Any]):
    problems: list[BusinessError] = []
    raw = values.get("items") or []
    if not raw or len(raw) > MAX_ITEMS:
        problems.append(BusinessError(Code.INVALID_INPUT, f"input.items: expected 1 to {MAX_ITEMS} items, got {len(raw)}",
                                      field="input.items"))
    code = values.get("warehouse_code")
    store = session.exec(select(Warehouse).where(Warehouse.code == str(code))).first() if code else None
    if store is None:
        known = ", ".join(session.exec(select(Warehouse.code).order_by(Warehouse.position, Warehouse.id))) or "none"
        problems.append(BusinessError(Code.NOT_FOUND, f"input.warehouseCode: no warehouse {code!r} (known: {known})",
                                      field="input.warehouseCode"))
    skus = [str(item.get("sku") or "") for item in raw]
    found = {row.sku: row for row in session.execute(
        select(ProductVariant.sku, ProductVariant.id, Product.track_inventory)
        .join(Product, Product.id == ProductVariant.product_id).where(ProductVariant.sku.in_(skus)))} if skus else {}
    items, seen = [], set()
    for index, (item, sku) in enumerate(zip(raw, skus)):
        here = f"input.items.{index}"
        if sku not in found:
            problems.append(BusinessError(Code.NOT_FOUND, f"{here}.sku: no variant with SKU {sku!r}; nothing was "
                                          "applied", field=f"{here}.sku"))
        elif sku in seen:
            problems.append(BusinessError(Code.INVALID_INPUT, f"{here}.sku: {sku!r} appears twice in one push",
                                          field=f"{here}.sku"))
        seen.add(sku)
        problem = check_count(item.get("quantity"), f"{here}.quantity")
        if problem:
            problems.append(problem)
        at = _time(item.get("at"), f"{here}.at", problems)
        if sku in found and problem is None and at is not None:
            items.append((sku, item["quantity"], at, found[sku].id, bool(found[sku].track_inventory)))
    if problems:
        raise BusinessErrors(problems)
    return store, items


def _time(value: Any, field: str, problems: list) -> datetime | None:
    try:
        at = aware_time(value)
    except ValueError:
        at = None
    if at is None:
        problems.append(BusinessError(Code.INVALID_INPUT, f"{field}: expected the ERP's ISO-8601 time with a zone, "
                                      f"like 2026-01-15T12:00:00Z, got {value!r}", field=field))
    return at


def _apply(session: Session, store: Warehouse, sku: str, quantity: int, at: datetime, variant_id: int) -> PushResult:
    level = session.exec(select(StockLevel).where(StockLevel.variant_id == variant_id,
                                                  StockLevel.warehouse_id == store.id)).first()
    if level is None:  # a concurrent first push of this SKU inserts too: the unique key retries us
        level = StockLevel(variant_id=variant_id, warehouse_id=store.id, on_hand=quantity, reserved=0, pushed_at=at,
                           updated_at=at)
        session.add(level)
        session.flush()
        return PushResult(sku, APPLIED, quantity, f"{sku}: on hand set to {quantity} in {store.code}")
    moved = session.execute(
        update(StockLevel)
        .where(StockLevel.id == level.id, or_(StockLevel.pushed_at.is_(None), StockLevel.pushed_at < at))
        .values(on_hand=quantity, pushed_at=at, updated_at=at)
        .returning(StockLevel.reserved)
        .execution_options(synchronize_session=False)).first()
    if moved is None:
        session.refresh(level)
        status = DUPLICATE if level.pushed_at == at else STALE
        why = ("already applied" if status == DUPLICATE
               else f"older than the last push applied ({level.pushed_at.isoformat()}); ignored")
        return PushResult(sku, status, level.on_hand, f"{sku}: {why}")
    if quantity < moved.reserved:
        flag_orders_at_risk(session, variant_id, store.id)
    return PushResult(sku, APPLIED, quantity, f"{sku}: on hand set to {quantity} in {store.code}")


def _record(session: Session, store: Warehouse, sku: str, quantity: int, at: datetime, variant_id: int) -> PushResult:
    variant = session.exec(select(ProductVariant).where(ProductVariant.id == variant_id).with_for_update()).one()
    snapshot = dict(variant.external_stock_snapshot or {})
    last = snapshot.get(store.code)
    if last is not None:
        last_at = aware_time(last["at"])
        if last_at >= at:
            status = DUPLICATE if last_at == at else STALE
            why = "already recorded" if status == DUPLICATE else f"older than the last push ({last['at']}); ignored"
            return PushResult(sku, status, last["quantity"], f"{sku}: {why}")
    snapshot[store.code] = {"quantity": quantity, "at": at.isoformat()}
    variant.external_stock_snapshot = snapshot
    session.add(variant)
    session.flush()
    return PushResult(sku, RECORDED, quantity, f"{sku}: untracked; recorded for audit only")
