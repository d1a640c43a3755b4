"""Order versions: every state an order's lines and totals went through (``modifyOrder``).

Version 1 is the order as placed, written when it is first modified; each modification adds the
next version with who made it, why, and the tender split it left. ``Order.versions`` reads them.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from runtime.db import MoneyAmount
from runtime.money import Money
from runtime.models import json_field, timestamp_field


def _money():
    return Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))


class OrderVersion(SQLModel, table=True):
    __tablename__ = "order_version"
    __table_args__ = (UniqueConstraint("order_id", "version", name="uq_order_version_order_version"),
                      UniqueConstraint("order_id", "idempotency_key", name="uq_order_version_order_key"))

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False,
                                           index=True))
    #: 1: as placed; then 2, 3… one per modification.
    version: int
    #: The ``modifyOrder`` key that made it (None for version 1): a retry answers the order as it is.
    idempotency_key: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    actor: str = Field(max_length=254)
    reason: str = Field(default="", max_length=500)
    #: ``[{sku, variant_id, quantity, package_slug, package_multiplier, unit_price, line_total}]``.
    lines: list = json_field(default_factory=list)
    currency: str = Field(max_length=3)
    subtotal: Decimal = _money()
    shipping_total: Decimal = _money()
    discount_total: Decimal = _money()
    tax_total: Decimal = _money()
    total: Decimal = _money()
    #: Each leg after this version: ``{position, type, amount, gateway, reference, payment_id}``.
    tenders: list = json_field(default_factory=list)
    created_at: datetime = timestamp_field()


def snapshot_lines(lines: list[Any], currency: str) -> list[dict[str, Any]]:
    def amount(value: Decimal) -> str:
        return format(Money(value, currency).amount, "f")

    return [{"sku": line.sku, "variant_id": line.variant_id, "quantity": line.quantity,
             "package_slug": line.package_slug, "package_multiplier": line.package_multiplier,
             "unit_price": amount(line.unit_price), "line_total": amount(line.line_total)} for line in lines]


def versions_of(session: Session, order_ids: list[int]) -> dict[int, list[OrderVersion]]:
    found: dict[int, list[OrderVersion]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        for row in session.exec(select(OrderVersion).where(OrderVersion.order_id.in_(order_ids))
                                .order_by(OrderVersion.order_id, OrderVersion.version)):
            found[row.order_id].append(row)
    return found
