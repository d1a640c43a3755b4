"""Money movements at gateways, and buyers' saved payment methods.

An ``authorization`` or ``charge`` row runs the ``payment_transaction`` state machine; each later
operation on it (``capture``, ``void``, ``refund``) is a row of its own pointing at it
(``parent_id``), with ``succeeded`` or ``failed`` as its state.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import json_field, timestamp_field
from runtime.state_machines.models import state_entered_at_field, state_field, state_index


class PaymentTransaction(SQLModel, table=True):
    __tablename__ = "payment_transaction"
    __table_args__ = (state_index("payment_transaction"),
                      # A gateway's webhook names the authorization by its id at the gateway.
                      Index("ix_payment_transaction_gateway_reference", "gateway", "gateway_reference"))

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), index=True))
    parent_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("payment_transaction.id", ondelete="CASCADE"), index=True))
    #: ``authorization``, ``capture``, ``charge``, ``void`` or ``refund``.
    type: str = Field(max_length=16)
    state: str = state_field()
    state_entered_at: datetime = state_entered_at_field()
    #: The registry key of the gateway (``mock_gateway.payment_gateway.mock``).
    gateway: str = Field(max_length=160)
    #: The gateway's id of the authorization (follow-ups name it).
    gateway_reference: str | None = Field(default=None, max_length=128)
    #: Unique per operation: a retried call reaches the gateway with the same key.
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    amount: Decimal = Field(sa_column=Column(MoneyAmount(), nullable=False))
    currency: str = Field(max_length=3)
    #: Captured and refunded so far (authorization rows).
    captured_amount: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    refunded_amount: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    fraud_hold: bool = Field(default=False)
    error_code: str | None = Field(default=None, max_length=64)
    message: str | None = Field(default=None, max_length=500)
    saved_payment_method_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("saved_payment_method.id", ondelete="SET NULL")))
    actor: str = Field(default="system", max_length=254)
    raw: dict = json_field(default_factory=dict)
    created_at: datetime = timestamp_field()


class SavedPaymentMethod(SQLModel, table=True):
    """A gateway token for a buyer's card; a B2B method may be scoped to one location."""

    __tablename__ = "saved_payment_method"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), index=True))
    account_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="CASCADE"), index=True))
    #: None: every location of the account may use it.
    location_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_location.id", ondelete="CASCADE")))
    gateway: str = Field(max_length=160)
    token: str = Field(max_length=255)
    label: str = Field(default="", max_length=120)
    brand: str = Field(default="", max_length=32)
    last4: str = Field(default="", max_length=4)
    exp_month: int | None = Field(default=None)
    exp_year: int | None = Field(default=None)
    is_active: bool = Field(default=True)
    created_at: datetime = timestamp_field()
