"""Tax tables: jurisdictions, rates, each channel's tax settings and an order's tax lines."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import ExactDecimal, MoneyAmount
from runtime.models import timestamp_field


class TaxJurisdiction(SQLModel, table=True):
    """A country, region, county, city or special district (``rules.tax_jurisdictions``)."""

    __tablename__ = "tax_jurisdiction"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    level: str = Field(max_length=16)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=8)
    #: Postal ranges and codes as imported (``98101-98199 98004``).
    postal: str = Field(default="", max_length=2000)
    city: str | None = Field(default=None, max_length=120)
    shipping_taxable: bool = Field(default=False)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class TaxRate(SQLModel, table=True):
    """A rate of one jurisdiction for one tax class, valid over ``[valid_from, valid_to]``."""

    __tablename__ = "tax_rate"
    __table_args__ = (UniqueConstraint("jurisdiction_code", "tax_class", "stage", "valid_from", name="uq_tax_rate"),)

    id: int | None = Field(default=None, primary_key=True)
    jurisdiction_code: str = Field(sa_column=Column(String(64), ForeignKey("tax_jurisdiction.code", ondelete="CASCADE"),
                                                    nullable=False, index=True))
    tax_class: str = Field(max_length=64)
    #: A fraction (0.065) for a percentage; the amount per unit for an excise.
    rate: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    stage: int = Field(default=1)
    compound: bool = Field(default=False)
    excise_unit: str | None = Field(default=None, max_length=16)
    #: ``sales`` or ``vat`` (a VAT rate is lifted by an EU reverse charge).
    kind: str = Field(default="sales", max_length=16)
    valid_from: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    valid_to: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    name: str = Field(default="", max_length=200)
    created_at: datetime = timestamp_field()


class ChannelTaxSettings(SQLModel, table=True):
    """How one channel taxes: prices with or without tax, rounding, and a failing provider."""

    __tablename__ = "channel_tax_settings"

    channel_id: int = Field(sa_column=Column(Integer, ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True))
    prices_include_tax: bool = Field(default=False)
    #: ``line`` (each tax line rounded) or ``total`` (each rate's sum rounded once).
    rounding: str = Field(default="line", max_length=8)
    #: ``refuse`` the checkout or ``fallback`` to the table rates when the provider fails.
    failure_policy: str = Field(default="refuse", max_length=16)
    #: ISO 3166-1 country the seller is established in (EU reverse charge is cross-border only).
    seller_country: str | None = Field(default=None, max_length=2)
    updated_at: datetime = timestamp_field()


class OrderTaxLine(SQLModel, table=True):
    """One tax of one order line (``order_line_id``) or of shipping (``kind='shipping'``)."""

    __tablename__ = "order_tax_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True))
    order_line_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("order_line.id", ondelete="CASCADE")))
    kind: str = Field(max_length=16)
    jurisdiction: str = Field(max_length=64)
    level: str = Field(max_length=16)
    rate_id: str = Field(max_length=64)
    rate: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    stage: int
    tax_class: str = Field(max_length=64)
    compound: bool = Field(default=False)
    #: The taxed amount (for an excise: the units).
    base: Decimal = Field(sa_column=Column(ExactDecimal(), nullable=False))
    amount: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    currency: str = Field(max_length=3)
    #: ``tax_rule name@revision`` that set the line's class, if one did.
    rule: str | None = Field(default=None, max_length=120)
    #: The provider's registry key, or ``core.tax_provider.table``.
    provider: str = Field(max_length=160)
    created_at: datetime = timestamp_field()
