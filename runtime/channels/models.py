"""Channels and exchange rates."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import Boolean, Column, Index, String, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel

from runtime.db import ExactDecimal
from runtime.models import json_field, timestamp_field


class CommerceMode(str, Enum):
    B2B = "B2B"
    B2C = "B2C"
    HYBRID = "HYBRID"


class CaptureMode(str, Enum):
    #: Authorize at checkout; capture later (on shipping).
    AUTHORIZE = "AUTHORIZE"
    #: Authorize and capture at checkout.
    AUTHORIZE_AND_CAPTURE = "AUTHORIZE_AND_CAPTURE"


class Channel(SQLModel, table=True):
    __tablename__ = "channel"
    __table_args__ = (
        # The database itself guarantees at most one default channel.
        Index("uq_channel_default", "is_default", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    commerce_mode: str = Field(max_length=16)
    default_currency: str = Field(max_length=3)
    #: Supported ISO 4217 codes, the default currency among them, in the order given.
    currencies: list[str] = json_field()
    capture_mode: str = Field(max_length=32)
    is_active: bool = Field(default=True)
    #: The channel used when a request names none.
    is_default: bool = Field(default=False)
    #: IANA time zone of the channel's calendar (``Europe/Berlin``): MMOQ's 30-day window counts
    #: whole days in it.
    time_zone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False, server_default="UTC"))
    #: Inventory: when a stock hold is taken, ``checkout`` (at placeOrder) or ``add_to_cart``.
    inventory_hold_mode: str = Field(default="checkout", sa_column=Column(String(16), nullable=False,
                                                                          server_default="checkout"))
    #: Orders: buyers may change their own authorised, uncaptured orders (``modifyOrder``); staff
    #: with ``orders.modify`` always may.
    buyers_modify_orders: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    #: Refunds: buyers may ask for refunds of their own orders (``submitRefundForApproval``); staff
    #: with ``refunds.request`` always may.
    buyers_request_refunds: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class ExchangeRate(SQLModel, table=True):
    """``1 base = rate quote`` from ``valid_from`` on, until a later rate for the pair takes over."""

    __tablename__ = "exchange_rate"
    __table_args__ = (UniqueConstraint("base", "quote", "valid_from", name="uq_exchange_rate_pair_time"),)

    id: int | None = Field(default=None, primary_key=True)
    base: str = Field(max_length=3)
    quote: str = Field(max_length=3)
    rate: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    valid_from: datetime = timestamp_field()
    created_at: datetime = timestamp_field()


class ChannelProvider(SQLModel, table=True):
    """A pack's strategy enabled on a channel (its payment gateway, its shipping rate providers)
    with the merchant's configuration, valid against the provider's ``config_schema``."""

    __tablename__ = "channel_provider"
    __table_args__ = (UniqueConstraint("channel_id", "slot", "provider", name="uq_channel_provider"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", index=True, ondelete="CASCADE")
    #: ``payment_gateway`` or ``shipping_rate_provider`` (later: ``tax_provider``…).
    slot: str = Field(max_length=64)
    #: The registry key, ``<pack>.<slot>.<name>``.
    provider: str = Field(max_length=160)
    config: dict = json_field(default_factory=dict)
    position: int = Field(default=0)
    is_active: bool = Field(default=True)
