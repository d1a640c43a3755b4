"""Buyers: B2C customers, and the B2B hierarchy Account → Location → Employee; customer groups,
saved addresses, and hashed API keys for machine callers.

A buyer is a :class:`~runtime.auth.models.User` with a ``Customer`` row (B2C) or an ``Employee``
row (B2B); staff are users with neither.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from runtime.models import json_field, timestamp_field


class CustomerGroup(SQLModel, table=True):
    __tablename__ = "customer_group"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)


class Customer(SQLModel, table=True):
    """A B2C buyer with a user login."""

    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True))
    first_name: str = Field(default="", max_length=120)
    last_name: str = Field(default="", max_length=120)
    customer_group_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer_group.id", ondelete="SET NULL"), index=True))
    created_at: datetime = timestamp_field()


class Account(SQLModel, table=True):
    """A B2B company buying from the store."""

    __tablename__ = "b2b_account"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    customer_group_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer_group.id", ondelete="SET NULL"), index=True))
    tax_id: str | None = Field(default=None, max_length=64)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp_field()


class Location(SQLModel, table=True):
    """A site of an account (a branch, a plant) with its own carts, addresses and contract prices."""

    __tablename__ = "b2b_location"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="CASCADE"), nullable=False, index=True))
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    is_active: bool = Field(default=True)


class Employee(SQLModel, table=True):
    """A user buying for an account, at one location. Their role (buyer, account admin…) is a
    user role: permissions are checked in one place."""

    __tablename__ = "b2b_employee"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, unique=True))
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="CASCADE"), nullable=False, index=True))
    location_id: int = Field(sa_column=Column(Integer, ForeignKey("b2b_location.id", ondelete="RESTRICT"), nullable=False, index=True))
    first_name: str = Field(default="", max_length=120)
    last_name: str = Field(default="", max_length=120)
    is_active: bool = Field(default=True)


class Address(SQLModel, table=True):
    """A saved address of a customer or of a B2B location (exactly one owner)."""

    __tablename__ = "address"
    __table_args__ = (
        CheckConstraint("(customer_id IS NULL) <> (location_id IS NULL)", name="ck_address_one_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), index=True))
    location_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_location.id", ondelete="CASCADE"), index=True))
    first_name: str = Field(default="", max_length=120)
    last_name: str = Field(default="", max_length=120)
    company: str = Field(default="", max_length=200)
    line1: str = Field(max_length=200)
    line2: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=32)
    city: str = Field(max_length=120)
    region: str = Field(default="", max_length=120)
    #: ISO 3166-1 alpha-2.
    country: str = Field(max_length=2)
    phone: str = Field(default="", max_length=40)
    is_default_shipping: bool = Field(default=False)
    is_default_billing: bool = Field(default=False)


class ApiKey(SQLModel, table=True):
    """A machine caller's key. Only a hash is stored; the key is shown once, at creation."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    #: The key's public first characters, to find the row (``vk_3f9a2b1c``).
    prefix: str = Field(sa_column=Column(String(24), nullable=False, unique=True))
    key_hash: str = Field(max_length=128)
    name: str = Field(max_length=200)
    #: Permission names the key grants (a subset of what its creator could grant).
    scopes: list[str] = json_field()
    created_by: str = Field(max_length=254)
    created_at: datetime = timestamp_field()
    expires_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    revoked_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    last_used_at: datetime | None = timestamp_field(nullable=True, default_now=False)
