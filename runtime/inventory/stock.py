"""Stock arithmetic: taking holds against stock rows, and giving stock back.

Taking a hold locks every stock row of the variants involved (``SELECT … FOR UPDATE``, in id
order so two checkouts never deadlock; SQLite's single writer serializes instead), decides the
split across warehouses, then raises ``reserved`` with a conditional UPDATE whose ``WHERE``
restates the invariant: a row never goes below ``-backorder_limit`` (the first warehouse) or 0
(the others). Two lines of one variant (any package) arrive here already summed in base units.

Stock comes back only through the ``core.release_stock`` effect, which the ``reservation``
machine lists on ``release``, ``expire`` and ``fulfil``: it runs in the transaction that moved the
reservations, once per batch, so an expired hold returns its units exactly once.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, update
from sqlmodel import Session, select

from runtime.catalog.models import Product, ProductVariant
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.inventory.models import Reservation, StockLevel, Warehouse

#: The entity type reservations are bound under (history rows, effect calls).
RESERVATION = "reservation"


@dataclass(frozen=True)
class Policy:
    """A variant's inventory policy as the database has it now."""

    variant_id: int
    product_id: int
    sku: str
    tracked: bool
    version: int
    backorder_limit: int


@dataclass(frozen=True)
class Need:
    """``quantity`` base units of a variant; ``field`` names the input in a refusal."""

    variant_id: int
    quantity: int
    field: str


def policies(session: Session, variant_ids: Iterable[int]) -> dict[int, Policy]:
    """The current policy of each variant (one statement)."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(ProductVariant.id, ProductVariant.product_id, ProductVariant.sku, Product.track_inventory,
               Product.inventory_state_version, ProductVariant.backorder_limit)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.id.in_(ids)))
    return {row[0]: Policy(*row) for row in rows}


def take_holds(session: Session, needs: list[Need], known: dict[int, Policy], *, code, state: str,
               cart_id: int | None = None, order_id: int | None = None) -> list[Reservation]:
    """Reserve every need or none: one reservation per (variant, warehouse) used, inserted in
    ``state`` (the machine's initial state). ``code`` is the refusal's code (the caller's enum's
    ``OUT_OF_STOCK``); every short variant is reported at once."""
    if not needs:
        return []
    levels = _locked_levels(session, [need.variant_id for need in needs])
    now = utcnow()
    problems, plans = [], []
    for need in needs:
        policy = known[need.variant_id]
        plan = _split(levels.get(need.variant_id, []), need.quantity, policy.backorder_limit)
        if plan is None:
            free = max(sum(level.on_hand - level.reserved for level in levels.get(need.variant_id, [])), 0)
            allowed = f" (plus {policy.backorder_limit} on backorder)" if policy.backorder_limit else ""
            problems.append(BusinessError(code, f"{need.field}: {need.quantity} of {policy.sku!r} requested, "
                                          f"{free} available{allowed}", field=need.field, sku=policy.sku,
                                          requested=need.quantity, available=free))
            continue
        plans.append((need, policy, plan))
    if problems:
        raise BusinessErrors(problems)
    reservations = []
    for need, policy, plan in plans:
        for index, (level, quantity, backordered) in enumerate(plan):
            floor = -policy.backorder_limit if index == 0 and backordered else 0
            moved = session.execute(
                update(StockLevel)
                .where(StockLevel.id == level.id, StockLevel.on_hand - StockLevel.reserved - quantity >= floor)
                .values(reserved=StockLevel.reserved + quantity, updated_at=now)
                .execution_options(synchronize_session=False)).rowcount
            if moved != 1:  # cannot happen under the row lock; the WHERE is the database's guarantee
                raise BusinessError(code, f"{need.field}: {policy.sku!r} sold out meanwhile", field=need.field,
                                    sku=policy.sku)
            reservations.append(Reservation(
                variant_id=need.variant_id, product_id=policy.product_id, warehouse_id=level.warehouse_id,
                quantity=quantity, backordered=backordered, cart_id=cart_id, order_id=order_id,
                policy_version=policy.version, state=state, state_entered_at=now, created_at=now))
    session.add_all(reservations)
    session.flush()
    return reservations


@dataclass(frozen=True)
class _Level:
    id: int
    variant_id: int
    warehouse_id: int
    on_hand: int
    reserved: int


def _locked_levels(session: Session, variant_ids: list[int]) -> dict[int, list[_Level]]:
    """The variants' stock rows in active warehouses, row-locked, each variant's in warehouse order."""
    rows = session.execute(
        select(StockLevel.id, StockLevel.variant_id, StockLevel.warehouse_id, StockLevel.on_hand,
               StockLevel.reserved, Warehouse.position)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.variant_id.in_(sorted(set(variant_ids))), Warehouse.is_active.is_(True))
        .order_by(StockLevel.id)
        .with_for_update(of=StockLevel)).all()
    grouped: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row.variant_id].append(row)
    return {variant_id: [_Level(r.id, r.variant_id, r.warehouse_id, r.on_hand, r.reserved)
                         for r in sorted(found, key=lambda r: (r.position, r.warehouse_id))]
            for variant_id, found in grouped.items()}


def _split(levels: list[_Level], quantity: int, backorder_limit: int) -> list[tuple[_Level, int, int]] | None:
    """``[(level, quantity, backordered)]``: free stock by warehouse order, the rest backordered at
    the first warehouse while the variant stays within ``-backorder_limit``; None when short."""
    if not levels:
        return None
    available = sum(level.on_hand - level.reserved for level in levels)
    if available - quantity < -backorder_limit:
        return None
    plan: dict[int, list] = {}
    remaining = quantity
    for level in levels:
        take = min(max(level.on_hand - level.reserved, 0), remaining)
        if take:
            plan[level.id] = [level, take, 0]
            remaining -= take
    if remaining:
        first = levels[0]
        entry = plan.setdefault(first.id, [first, 0, 0])
        entry[1] += remaining
        entry[2] += remaining
    ordered = sorted(plan.values(), key=lambda entry: levels.index(entry[0]))
    return [tuple(entry) for entry in ordered]


def return_stock(session: Session, reservation_ids: Iterable[int], *, shipped: bool) -> None:
    """Give the reservations' units back to their stock rows (``shipped``: they also leave
    ``on_hand``). One grouped read and one executemany, whatever the number of reservations."""
    ids = sorted({int(i) for i in reservation_ids})
    if not ids:
        return
    totals = session.execute(
        select(Reservation.variant_id, Reservation.warehouse_id, func.sum(Reservation.quantity))
        .where(Reservation.id.in_(ids))
        .group_by(Reservation.variant_id, Reservation.warehouse_id)).all()
    values = {"reserved": StockLevel.reserved - bindparam("q"), "updated_at": utcnow()}
    if shipped:  # a backordered unit shipped before stock was booked in cannot take on_hand below 0
        values["on_hand"] = case((StockLevel.on_hand > bindparam("q"), StockLevel.on_hand - bindparam("q")), else_=0)
    statement = (update(StockLevel)
                 .where(StockLevel.variant_id == bindparam("v"), StockLevel.warehouse_id == bindparam("w"))
                 .values(values))
    session.connection().execute(statement, [{"v": v, "w": w, "q": int(q)} for v, w, q in totals])
