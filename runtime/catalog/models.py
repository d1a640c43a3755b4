"""The catalog: categories (a tree), brands, attributes, products and their variants (SKUs),
per-locale translations, and per-channel visibility."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import json_field, timestamp_field


class Category(SQLModel, table=True):
    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("category.id", ondelete="RESTRICT"), index=True))
    slug: str = Field(max_length=128, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="")
    #: Ids from the root down to this category, ``/1/4/9/``: a subtree is ``path LIKE '/1/4/%'``.
    path: str = Field(default="", max_length=512, index=True)
    position: int = Field(default=0)


class Brand(SQLModel, table=True):
    __tablename__ = "brand"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=128, unique=True)
    name: str = Field(max_length=200)


class Attribute(SQLModel, table=True):
    """A typed product or variant property (``color``, ``voltage``) that search can filter by."""

    __tablename__ = "attribute"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    #: ``text``, ``number``, ``boolean`` or ``select`` (one of ``choices``).
    type: str = Field(max_length=16)
    choices: list[str] = json_field()


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=200, unique=True)
    name: str = Field(max_length=300)
    description: str = Field(default="")
    brand_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("brand.id", ondelete="RESTRICT"), index=True))
    category_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("category.id", ondelete="RESTRICT"), index=True))
    tags: list[str] = json_field()
    #: Attribute code → value (typed as the attribute says).
    attributes: dict = json_field(default_factory=dict)
    is_published: bool = Field(default=True)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
    #: What text search matches: name, description, SKUs, brand name and translations, kept by
    #: ``runtime.catalog.search_index`` (PostgreSQL indexes it with GIN; SQLite mirrors it into FTS5).
    search_document: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    #: Inventory (``runtime.inventory``): whether stock is counted and held for this product, and
    #: a counter bumped by every change of that policy (a placeOrder holding an older one re-validates).
    track_inventory: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    inventory_state_version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class ProductVariant(SQLModel, table=True):
    """A sellable SKU. ``base_price`` is in the store's base currency (level 1 of pricing)."""

    __tablename__ = "product_variant"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False, index=True))
    sku: str = Field(max_length=64, unique=True)
    name: str = Field(default="", max_length=300)
    attributes: dict = json_field(default_factory=dict)
    base_price: Decimal = Field(sa_column=Column(MoneyAmount(), nullable=False))
    base_currency: str = Field(max_length=3)
    compare_at_price: Decimal | None = Field(default=None, sa_column=Column(MoneyAmount(), nullable=True))
    weight_grams: int | None = Field(default=None)
    position: int = Field(default=0)
    is_active: bool = Field(default=True)
    #: Inventory: units that may be sold beyond stock (0: no backorders).
    backorder_limit: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    #: Inventory: the last ERP stock push for an untracked variant, kept for audit only.
    external_stock_snapshot: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: MMOQ caps (``runtime.mmoq``): the variant's own limits, in base units, used where no
    #: ``mmoq_cap`` definition sets that limit (None: no limit). ``backorder_limit`` is the
    #: fallback of ``maxBackorderQty``; ``mmoq_display_unit`` is a package slug of the ladder.
    mmoq_min_quantity: int | None = Field(default=None)
    mmoq_increment: int | None = Field(default=None)
    mmoq_max_per_order: int | None = Field(default=None)
    mmoq_max_per_customer_30d: int | None = Field(default=None)
    mmoq_display_unit: str | None = Field(default=None, max_length=64)


class ProductTranslation(SQLModel, table=True):
    __tablename__ = "product_translation"

    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), primary_key=True))
    #: BCP 47 tag as given (``de``, ``de-AT``); lookups fall back ``de-AT`` → ``de`` → the product's own text.
    locale: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=300)
    description: str = Field(default="")


class CategoryTranslation(SQLModel, table=True):
    __tablename__ = "category_translation"

    category_id: int = Field(sa_column=Column(Integer, ForeignKey("category.id", ondelete="CASCADE"), primary_key=True))
    locale: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=200)


class ProductChannel(SQLModel, table=True):
    """A product is visible in a channel iff a row says so and ``now`` is inside its window."""

    __tablename__ = "product_channel"
    __table_args__ = (Index("ix_product_channel_channel", "channel_id", "product_id"),)

    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), primary_key=True))
    channel_id: int = Field(sa_column=Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True))
    visible_from: datetime | None = timestamp_field(nullable=True, default_now=False)
    visible_until: datetime | None = timestamp_field(nullable=True, default_now=False)
