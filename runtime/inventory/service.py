"""Inventory administration: warehouses, stock on hand, product policies, clearing a product's
reservations, and handing an order off to an external system. Each function runs inside the
caller's transaction and checks every input before it writes.

A change of a product's inventory policy (tracking, a variant's backorder limit, clearing its
reservations or backorders) bumps ``Product.inventory_state_version``: a placeOrder holding
reservations taken under an older version re-validates them (``runtime.inventory.holds``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from runtime.catalog.models import Product, ProductVariant
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.inventory import moves
from runtime.inventory.errors import InventoryErrorCode as Code
from runtime.inventory.holds import CONFIRMED, HELD, flag_orders_at_risk
from runtime.inventory.models import Reservation, StockLevel, Warehouse

CODE_MAX, NAME_MAX, REFERENCE_MAX = 64, 200, 128


def parse_id(value: Any, field: str, what: str) -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 18:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no {what} {value!r}", field=field)
    return int(text)


def check_count(value: Any, field: str) -> BusinessError | None:
    """A whole number of units, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return BusinessError(Code.INVALID_INPUT, f"{field}: expected a whole number of 0 or more, got {value!r}",
                             field=field)
    return None


def product(session: Session, product_id: Any, field: str = "productId", *, lock: bool = False) -> Product:
    statement = select(Product).where(Product.id == parse_id(product_id, field, "product"))
    found = session.exec(statement.with_for_update() if lock else statement).first()
    if found is None:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no product {product_id!r}", field=field)
    return found


def warehouse(session: Session, code: Any, field: str = "warehouseCode") -> Warehouse:
    found = session.exec(select(Warehouse).where(Warehouse.code == str(code))).first()
    if found is None:
        known = ", ".join(session.exec(select(Warehouse.code).order_by(Warehouse.position, Warehouse.id))) or "none"
        raise BusinessError(Code.NOT_FOUND, f"{field}: no warehouse {code!r} (known: {known})", field=field)
    return found


def bump_policy(session: Session, product_id: int) -> None:
    session.execute(update(Product).where(Product.id == product_id)
                    .values(inventory_state_version=Product.inventory_state_version + 1)
                    .execution_options(synchronize_session="fetch"))


# --- warehouses and stock --------------------------------------------------------------------


def create_warehouse(session: Session, code: Any, name: Any, position: Any = 0) -> Warehouse:
    problems = []
    code, name = str(code or "").strip(), str(name or "").strip()
    if not code or len(code) > CODE_MAX:
        problems.append(BusinessError(Code.INVALID_INPUT, f"input.code: expected 1 to {CODE_MAX} characters",
                                      field="input.code"))
    elif session.exec(select(Warehouse.id).where(Warehouse.code == code)).first() is not None:
        problems.append(BusinessError(Code.DUPLICATE_CODE, f"input.code: a warehouse {code!r} exists already",
                                      field="input.code"))
    if not name or len(name) > NAME_MAX:
        problems.append(BusinessError(Code.INVALID_INPUT, f"input.name: expected 1 to {NAME_MAX} characters",
                                      field="input.name"))
    if isinstance(position, bool) or not isinstance(position, int):
        problems.append(BusinessError(Code.INVALID_INPUT, f"input.position: expected a whole number, got {position!r}",
                                      field="input.position"))
    if problems:
        raise BusinessErrors(problems)
    row = Warehouse(code=code, name=name, position=position)
    session.add(row)
    session.flush()
    return row


def variant_by_sku(session: Session, sku: Any, field: str) -> ProductVariant:
    found = session.exec(select(ProductVariant).where(ProductVariant.sku == str(sku))).first()
    if found is None:
        raise BusinessError(Code.NOT_FOUND, f"{field}: no variant with SKU {sku!r}", field=field)
    return found


def set_on_hand(session: Session, sku: Any, warehouse_code: Any, on_hand: Any) -> StockLevel:
    """Staff's stock count: sets on hand (creating the row); below what is reserved flags the
    orders holding it (drift)."""
    problem = check_count(on_hand, "input.onHand")
    if problem:
        raise problem
    variant = variant_by_sku(session, sku, "input.sku")
    store = warehouse(session, warehouse_code, "input.warehouseCode")
    level = _level(session, variant.id, store.id)
    level.on_hand, level.updated_at = on_hand, utcnow()
    session.add(level)
    session.flush()
    if level.on_hand < level.reserved:
        flag_orders_at_risk(session, variant.id, store.id)
    return level


def _level(session: Session, variant_id: int, warehouse_id: int) -> StockLevel:
    statement = select(StockLevel).where(StockLevel.variant_id == variant_id, StockLevel.warehouse_id == warehouse_id)
    found = session.exec(statement.with_for_update()).first()
    if found is None:
        found = StockLevel(variant_id=variant_id, warehouse_id=warehouse_id, on_hand=0, reserved=0)
        session.add(found)
        session.flush()
    return found


# --- product policies ------------------------------------------------------------------------


def set_tracking(session: Session, product_id: Any, track: bool) -> Product:
    found = product(session, product_id)
    if found.track_inventory != bool(track):
        found.track_inventory = bool(track)
        session.add(found)
        session.flush()
        bump_policy(session, found.id)
    return found


def set_backorder_limit(session: Session, sku: Any, limit: Any) -> ProductVariant:
    problem = check_count(limit, "backorderLimit")
    if problem:
        raise problem
    variant = variant_by_sku(session, sku, "sku")
    if variant.backorder_limit != limit:
        variant.backorder_limit = limit
        session.add(variant)
        session.flush()
        bump_policy(session, variant.product_id)
    return variant


@dataclass
class Released:
    """What clearing or a handoff released: the reservations (as they were) and their totals."""

    product: Product | None = None
    reservations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reservations)

    @property
    def quantity(self) -> int:
        return sum(r["quantity"] for r in self.reservations)


def _describe(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = session.execute(
        select(Reservation.id, ProductVariant.sku, Warehouse.code, Reservation.quantity, Reservation.backordered,
               Reservation.state, Reservation.cart_id, Reservation.order_id)
        .join(ProductVariant, ProductVariant.id == Reservation.variant_id)
        .join(Warehouse, Warehouse.id == Reservation.warehouse_id)
        .where(Reservation.id.in_(ids)).order_by(Reservation.id))
    return [{"id": r.id, "sku": r.sku, "warehouse_code": r.code, "quantity": r.quantity, "backordered": r.backordered,
             "state": r.state, "cart_id": r.cart_id, "order_id": r.order_id} for r in rows]


def clear_product_inventory_state(session: Session, product_id: Any, actor_label: str) -> Released:
    """Release every held and confirmed reservation of the product (its units go back to stock);
    the confirmed ones' orders are flagged for triage. Reports each as it was before."""
    found = product(session, product_id, lock=True)
    ids = list(session.execute(select(Reservation.id).where(
        Reservation.product_id == found.id, Reservation.state.in_((HELD, CONFIRMED)))).scalars())
    before = _describe(session, ids)
    orders = sorted({r["order_id"] for r in before if r["order_id"] is not None})
    released = set(moves.move(session, ids, "release", actor_label, context={"reason": "clearProductInventoryState"}))
    if orders:
        from runtime.orders.models import Order

        session.execute(update(Order).where(Order.id.in_(orders)).values(inventory_risk_flag=True)
                        .execution_options(synchronize_session=False))
    bump_policy(session, found.id)
    session.refresh(found)
    return Released(found, [r for r in before if r["id"] in released])


def clear_product_backorders(session: Session, product_id: Any) -> tuple[Product, list[dict[str, Any]]]:
    """Mark the product's backordered units covered: reservations keep their quantity but no
    longer count as backordered, so their orders stop waiting. Returns what was cleared."""
    found = product(session, product_id, lock=True)
    ids = list(session.execute(select(Reservation.id).where(
        Reservation.product_id == found.id, Reservation.state.in_((HELD, CONFIRMED)),
        Reservation.backordered > 0)).scalars())
    cleared = _describe(session, ids)
    if ids:
        session.execute(update(Reservation).where(Reservation.id.in_(ids)).values(backordered=0)
                        .execution_options(synchronize_session=False))
    bump_policy(session, found.id)
    session.refresh(found)
    return found, cleared


def acknowledge_handoff(session: Session, order_id: int, reference: Any, actor_label: str) -> Released:
    """The ERP took the order over: release its holds, remembering its reference. Acknowledging
    again with the same reference changes nothing; another reference is refused."""
    reference = str(reference or "").strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise BusinessError(Code.INVALID_INPUT, f"externalReference: expected 1 to {REFERENCE_MAX} characters",
                            field="externalReference")
    earlier = session.execute(select(Reservation.external_reference).where(
        Reservation.order_id == order_id, Reservation.external_reference.is_not(None)).limit(1)).scalar()
    if earlier is not None and earlier != reference:
        raise BusinessError(Code.ALREADY_HANDED_OFF, f"externalReference: the order was handed off as {earlier!r} "
                            "already", field="externalReference")
    ids = list(session.execute(select(Reservation.id).where(
        Reservation.order_id == order_id, Reservation.state.in_((HELD, CONFIRMED)))).scalars())
    before = _describe(session, ids)
    released = set(moves.move(session, ids, "release", actor_label, values={"external_reference": reference},
                              context={"external_reference": reference}))
    return Released(None, [r for r in before if r["id"] in released])


def stock_summary(session: Session, variant_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per variant: on hand, held, confirmed, available over active and inactive warehouses."""
    if not variant_ids:
        return {}
    summary = {v: {"on_hand": 0, "held": 0, "confirmed": 0} for v in variant_ids}
    for variant_id, on_hand in session.execute(
            select(StockLevel.variant_id, func.sum(StockLevel.on_hand))
            .where(StockLevel.variant_id.in_(variant_ids)).group_by(StockLevel.variant_id)):
        summary[variant_id]["on_hand"] = int(on_hand)
    for variant_id, state, quantity in session.execute(
            select(Reservation.variant_id, Reservation.state, func.sum(Reservation.quantity))
            .where(Reservation.variant_id.in_(variant_ids), Reservation.state.in_((HELD, CONFIRMED)))
            .group_by(Reservation.variant_id, Reservation.state)):
        summary[variant_id][state] = int(quantity)
    for values in summary.values():
        values["available"] = values["on_hand"] - values["held"] - values["confirmed"]
    return summary
