"""Price lists: levels 2-5 of the price hierarchy (variant base price is level 1).

A list applies at one level to one scope (a channel, a customer group, an account or a location),
in one currency, inside an optional validity window. Its entries give a variant's price from a
minimum quantity on (volume tiers: several entries per variant).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import timestamp_field


class PriceLevel(str, Enum):
    """Most specific last: a location (contract) price beats an account price, and so on down."""

    BASE = "BASE"
    CHANNEL = "CHANNEL"
    CUSTOMER_GROUP = "CUSTOMER_GROUP"
    ACCOUNT = "ACCOUNT"
    LOCATION = "LOCATION"


class PriceList(SQLModel, table=True):
    __tablename__ = "price_list"
    __table_args__ = (Index("ix_price_list_scope", "level", "is_active"),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    level: str = Field(max_length=16)
    currency: str = Field(max_length=3)
    #: The scope: the one id the level needs, plus an optional channel restriction on any level.
    channel_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), index=True))
    customer_group_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer_group.id", ondelete="CASCADE"), index=True))
    account_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="CASCADE"), index=True))
    location_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_location.id", ondelete="CASCADE"), index=True))
    valid_from: datetime | None = timestamp_field(nullable=True, default_now=False)
    valid_until: datetime | None = timestamp_field(nullable=True, default_now=False)
    #: Between two applicable lists of one level, the higher priority wins (then the lower price).
    priority: int = Field(default=0)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp_field()


class PriceListEntry(SQLModel, table=True):
    __tablename__ = "price_list_entry"
    __table_args__ = (
        UniqueConstraint("price_list_id", "variant_id", "min_quantity", name="uq_price_list_entry_tier"),
        Index("ix_price_list_entry_variant", "variant_id", "price_list_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    price_list_id: int = Field(sa_column=Column(Integer, ForeignKey("price_list.id", ondelete="CASCADE"), nullable=False))
    variant_id: int = Field(sa_column=Column(Integer, ForeignKey("product_variant.id", ondelete="CASCADE"), nullable=False))
    #: The tier: this price applies from this quantity on.
    min_quantity: int = Field(default=1)
    price: Decimal = Field(sa_column=Column(MoneyAmount(), nullable=False))
