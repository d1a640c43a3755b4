"""Lines put aside from a cart ("save for later"): kept with their package, not priced, held or
counted by caps until restored into the cart."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from runtime.models import timestamp_field


class CartSavedLine(SQLModel, table=True):
    __tablename__ = "cart_saved_line"

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False, index=True))
    variant_id: int = Field(sa_column=Column(Integer, ForeignKey("product_variant.id", ondelete="CASCADE"),
                                             nullable=False))
    #: In packages when ``package_slug`` is set, else base units (as the cart line was).
    quantity: int
    package_slug: str | None = Field(default=None, max_length=64)
    #: Base units per package when saved: a different ladder at restore is ``unitChanged``.
    package_multiplier: int = Field(default=1)
    created_at: datetime = timestamp_field()
