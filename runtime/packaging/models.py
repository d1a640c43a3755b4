"""Packages and product ladders."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.models import timestamp_field


class Package(SQLModel, table=True):
    """A packaging unit shared by products: its slug is what line inputs name (``box``)."""

    __tablename__ = "packages"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    created_at: datetime = timestamp_field()


class ProductPackage(SQLModel, table=True):
    """One rung of a product's ladder: ``multiplier`` base units per package."""

    __tablename__ = "product_packages"
    __table_args__ = (
        UniqueConstraint("product_id", "package_id", name="uq_product_package"),
        CheckConstraint("multiplier >= 1", name="ck_product_package_multiplier"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False, index=True))
    package_id: int = Field(sa_column=Column(Integer, ForeignKey("packages.id", ondelete="RESTRICT"), nullable=False))
    multiplier: int
    updated_at: datetime = timestamp_field()
