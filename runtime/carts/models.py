"""Carts and their lines. A cart runs the ``cart`` state machine; a guest finds theirs by token."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import json_field, timestamp_field
from runtime.state_machines.models import state_entered_at_field, state_field, state_index


class Cart(SQLModel, table=True):
    __tablename__ = "cart"
    __table_args__ = (state_index("cart"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The public handle (a random token): a guest's only proof of ownership.
    token: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    channel_id: int = Field(sa_column=Column(Integer, ForeignKey("channel.id", ondelete="RESTRICT"), nullable=False, index=True))
    currency: str = Field(max_length=3)
    #: The owner: none (a guest), a user (B2C customer or B2B employee); B2B carts are per location.
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), index=True))
    customer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer.id", ondelete="SET NULL")))
    account_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="SET NULL"), index=True))
    location_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_location.id", ondelete="SET NULL")))
    email: str | None = Field(default=None, max_length=254)
    state: str = state_field()
    state_entered_at: datetime = state_entered_at_field()
    #: Address snapshots (``Address`` fields), copied from a saved address or typed in.
    shipping_address: dict | None = Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=True))
    billing_address: dict | None = Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=True))
    #: The chosen rate: ``{provider, code, name, amount}``, re-quoted at placeOrder.
    shipping_method: dict | None = Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=True))
    #: How the buyer pays: ``{gateway, token}`` or ``{savedPaymentMethodId}``.
    payment: dict | None = Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=True))
    item_count: int = Field(default=0)
    subtotal: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    shipping_total: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    total: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    #: Bumped by every change: clients can detect a cart changed under them.
    version: int = Field(default=1)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class CartLine(SQLModel, table=True):
    __tablename__ = "cart_line"
    #: One line per variant and package: a box and a case of one variant are two lines. Lines
    #: without a package (NULL) are kept unique by the cart service under the cart's row lock.
    __table_args__ = (UniqueConstraint("cart_id", "variant_id", "package_slug", name="uq_cart_line_variant_package"),)

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False, index=True))
    variant_id: int = Field(sa_column=Column(Integer, ForeignKey("product_variant.id", ondelete="RESTRICT"), nullable=False))
    #: In packages (``package_slug``) when one is chosen, else in base units.
    quantity: int
    #: The chosen package of the product's ladder (``box``), None for base units.
    package_slug: str | None = Field(default=None, max_length=64)
    #: Base units per package, copied when the line is written (a later ladder change shows as
    #: ``unitChanged`` on reorder instead of silently changing what was ordered).
    package_multiplier: int = Field(default=1)
    unit_price: Decimal = Field(sa_column=Column(MoneyAmount(), nullable=False))
    line_total: Decimal = Field(sa_column=Column(MoneyAmount(), nullable=False))
    #: Which level and list priced the line (``PriceLevel``; list slug or None for the base price).
    price_level: str = Field(max_length=16)
    price_list_slug: str | None = Field(default=None, max_length=64)
    created_at: datetime = timestamp_field()

    @property
    def base_quantity(self) -> int:
        """The quantity in base units: what stock and caps count."""
        return self.quantity * self.package_multiplier
