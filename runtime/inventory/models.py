"""Inventory: warehouses, stock levels per variant and warehouse, and reservations (the
``reservation`` state machine's entity).

``available = on_hand - held - confirmed``, summed over a variant's warehouses. A stock row keeps
``reserved`` (= held + confirmed): confirming a hold moves no stock, so only taking a hold (a
conditional, row-locked UPDATE in :mod:`runtime.inventory.stock`) and the ``core.release_stock``
effect (release, expire, fulfil) change it. Held and confirmed apart are sums of reservations.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.models import timestamp_field
from runtime.state_machines.models import state_entered_at_field, state_field, state_index


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouse"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str = Field(max_length=200)
    #: Holds are taken from warehouses by ascending position (then id); backorders go to the first.
    position: int = Field(default=0)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp_field()


class StockLevel(SQLModel, table=True):
    """One variant in one warehouse: ``on_hand`` is what is physically there (set by staff or an
    ERP push), ``reserved`` the sum of its held and confirmed reservations."""

    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("variant_id", "warehouse_id", name="uq_stock_level_variant_warehouse"),
        CheckConstraint("reserved >= 0 AND on_hand >= 0", name="ck_stock_level_non_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(sa_column=Column(Integer, ForeignKey("product_variant.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    warehouse_id: int = Field(sa_column=Column(Integer, ForeignKey("warehouse.id", ondelete="RESTRICT"),
                                               nullable=False))
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)
    #: The ERP's time of the last push applied here: an older push is ignored (ordering).
    pushed_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    updated_at: datetime = timestamp_field()


class Reservation(SQLModel, table=True):
    """Stock of one variant in one warehouse held for a cart, then confirmed for its order."""

    __tablename__ = "reservation"
    __table_args__ = (
        state_index("reservation"),
        Index("ix_reservation_variant_state", "variant_id", "state"),
        CheckConstraint("quantity > 0 AND backordered >= 0 AND backordered <= quantity",
                        name="ck_reservation_quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(sa_column=Column(Integer, ForeignKey("product_variant.id", ondelete="CASCADE"),
                                             nullable=False))
    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False,
                                             index=True))
    warehouse_id: int = Field(sa_column=Column(Integer, ForeignKey("warehouse.id", ondelete="RESTRICT"),
                                               nullable=False))
    #: Base units (a line's ``base_quantity``).
    quantity: int
    #: Of ``quantity``, how many units were beyond stock when taken (a backorder).
    backordered: int = Field(default=0)
    cart_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("cart.id", ondelete="SET NULL"),
                                                               index=True))
    order_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"),
                                                                index=True))
    #: The product's ``inventory_state_version`` when the hold was taken: placeOrder re-validates a
    #: hold taken under another policy instead of trusting it.
    policy_version: int
    state: str = state_field()
    state_entered_at: datetime = state_entered_at_field()
    #: Set when released by ``acknowledgeOrderExternalHandoff``: the ERP's reference for the order.
    external_reference: str | None = Field(default=None, max_length=128)
    created_at: datetime = timestamp_field()
