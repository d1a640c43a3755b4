"""Orders: the ``order`` state machine's entity, with line and address snapshots and totals in
the transacted currency and the store's base currency."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from runtime.db import ExactDecimal, MoneyAmount
from runtime.models import json_field, timestamp_field
from runtime.state_machines.models import state_entered_at_field, state_field, state_index


def _money(nullable: bool = False):
    return Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=nullable))


def _json(nullable: bool = True):
    return Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=nullable))


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        state_index("orders"),
        Index("ix_orders_account_created", "account_id", "created_at"),
        Index("ix_orders_user_created", "user_id", "created_at"),
        UniqueConstraint("idempotency_scope", "idempotency_key", name="uq_orders_idempotency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: The public order number (``V-000123``).
    number: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    channel_id: int = Field(sa_column=Column(Integer, ForeignKey("channel.id", ondelete="RESTRICT"), nullable=False, index=True))
    #: The cart it was placed from (unique: one order per cart), None for ``adminCreateOrder``.
    cart_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("cart.id", ondelete="SET NULL"), unique=True))
    #: The client's ``idempotencyKey`` of ``placeOrder``/``adminCreateOrder``: a retry returns this
    #: order. Unique per caller (``idempotency_scope``), as Stripe scopes keys to an account.
    idempotency_key: str | None = Field(default=None, sa_column=Column(String(128)))
    #: Whose key it is: ``user:<id>``, ``api_key:<id>`` or, for a guest, ``cart:<id>``.
    idempotency_scope: str | None = Field(default=None, sa_column=Column(String(64)))
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL")))
    customer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer.id", ondelete="SET NULL"), index=True))
    account_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="SET NULL")))
    location_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_location.id", ondelete="SET NULL")))
    #: Staff who created it for the buyer (``adminCreateOrder``), else None.
    created_by: str | None = Field(default=None, max_length=254)
    email: str | None = Field(default=None, max_length=254)
    state: str = state_field()
    state_entered_at: datetime = state_entered_at_field()
    #: ``none``, ``pending``, ``authorized``, ``captured``, ``partially_refunded``, ``refunded``, ``voided``, ``failed``.
    payment_status: str = Field(default="none", max_length=32)
    item_count: int = Field(default=0)
    currency: str = Field(max_length=3)
    subtotal: Decimal = _money()
    shipping_total: Decimal = _money()
    discount_total: Decimal = _money()
    tax_total: Decimal = _money()
    total: Decimal = _money()
    #: The store's base currency and the rate used: ``base_total = total × exchange_rate``.
    base_currency: str = Field(max_length=3)
    exchange_rate: Decimal = Field(default=Decimal(1), sa_column=Column(ExactDecimal(), nullable=False))
    base_total: Decimal = _money()
    shipping_address: dict | None = _json()
    billing_address: dict | None = _json()
    #: ``{provider, code, name, amount}``.
    shipping_method: dict | None = _json()
    #: Each checkout stage's notes (which price list, which rate…), for support and audit.
    pipeline: dict = json_field(default_factory=dict)
    #: Inventory: raised when the order oversold (a backorder beyond stock, or stock drift found
    #: after placement), for triage (``orders(inventoryRiskOnly: true)``).
    inventory_risk_flag: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false(),
                                                                      index=True))
    #: Tenders: ``review`` while a gateway's fraud review holds the order, then ``released`` or ``rejected``.
    fraud_status: str | None = Field(default=None, max_length=16)
    #: Which tender the gateway held and why; who released or rejected it, when and why.
    fraud_details: dict | None = _json()
    created_at: datetime = timestamp_field(index=True)
    updated_at: datetime = timestamp_field()


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True))
    variant_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("product_variant.id", ondelete="SET NULL")))
    #: Snapshots: what was bought, as it was named and priced then.
    sku: str = Field(max_length=64)
    product_name: str = Field(max_length=300)
    variant_name: str = Field(default="", max_length=300)
    #: In packages (``package_slug``) when one was chosen, else in base units.
    quantity: int
    #: The package bought (``box``) and its base units then; None and 1 for base units.
    package_slug: str | None = Field(default=None, max_length=64)
    package_multiplier: int = Field(default=1)
    unit_price: Decimal = _money()
    line_total: Decimal = _money()
    base_unit_price: Decimal = _money()
    price_level: str = Field(max_length=16)
    price_list_slug: str | None = Field(default=None, max_length=64)
    #: Inventory: whether the product's stock was tracked (and held) when the order was placed.
    tracking_enabled_at_checkout: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                                               server_default=false()))

    @property
    def base_quantity(self) -> int:
        """The quantity in base units: what stock and caps count."""
        return self.quantity * self.package_multiplier
