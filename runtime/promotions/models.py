"""Promotions' tables: coupon codes, the codes a cart applied, usage counters and usage rows,
and the discount lines of an order (per order line and per shipping)."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import timestamp_field


class PromotionCoupon(SQLModel, table=True):
    """A generated code (``generatePromotionCoupons``); codes listed in a definition live there."""

    __tablename__ = "promotion_coupon"

    id: int | None = Field(default=None, primary_key=True)
    #: Upper-cased: codes are case-insensitive.
    code: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    promotion_name: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    #: Which generation call made it (``batch`` of ``generatePromotionCoupons``).
    batch: str = Field(default="", max_length=64)
    created_by: str = Field(default="", max_length=254)
    created_at: datetime = timestamp_field()


class CartCoupon(SQLModel, table=True):
    """A code a cart applied (``applyCartCoupon``), upper-cased."""

    __tablename__ = "cart_coupon"
    __table_args__ = (UniqueConstraint("cart_id", "code", name="uq_cart_coupon"),)

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False, index=True))
    code: str = Field(sa_column=Column(String(40), nullable=False))
    created_at: datetime = timestamp_field()


class PromotionUsageCounter(SQLModel, table=True):
    """How often a promotion (``global``), a customer (``customer``) or a code (``code``) used it;
    an enforced limit is taken with one conditional UPDATE (``used < max``) inside placeOrder."""

    __tablename__ = "promotion_usage_counter"

    #: ``global:<promotion>``, ``customer:<promotion>:<customer key>``, ``code:<promotion>:<CODE>``.
    key: str = Field(sa_column=Column(String(200), primary_key=True))
    used: int = Field(default=0)
    updated_at: datetime = timestamp_field()


class PromotionUsage(SQLModel, table=True):
    """One promotion used by one order, with the counters it took (released on cancel)."""

    __tablename__ = "promotion_usage"
    __table_args__ = (UniqueConstraint("order_id", "promotion_name", name="uq_promotion_usage_order"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True))
    promotion_name: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    coupon_code: str | None = Field(default=None, max_length=40)
    #: Counter keys this use incremented, space-separated.
    counters: str = Field(default="", max_length=1000)
    released_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    created_at: datetime = timestamp_field()


class OrderDiscount(SQLModel, table=True):
    """A discount line: on an order line (``order_line_id``) or on shipping (``kind='shipping'``)."""

    __tablename__ = "order_discount"
    __table_args__ = (Index("ix_order_discount_promotion", "promotion_name", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True))
    order_line_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("order_line.id", ondelete="CASCADE")))
    #: ``line`` or ``shipping``.
    kind: str = Field(max_length=16)
    phase: str = Field(max_length=16)
    promotion_name: str = Field(max_length=64)
    promotion_revision: int
    #: What a buyer sees (the definition's ``message``), never the internal name.
    label: str = Field(default="", max_length=120)
    coupon_code: str | None = Field(default=None, max_length=40)
    amount: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    currency: str = Field(max_length=3)
    created_at: datetime = timestamp_field()
