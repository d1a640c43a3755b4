"""Net-terms receivables: what a captured terms leg leaves the account owing, with its due date.

Capturing a terms leg (staff ``capturePayment``, or an order shipped and invoiced) turns the
captured part of its open-credit reservation into a receivable due ``terms_days`` after the
capture. A receivable still uses the account's open credit until it is paid.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount, UTCDateTime
from runtime.models import timestamp_field


class NetTermsReceivable(SQLModel, table=True):
    __tablename__ = "net_terms_receivable"
    __table_args__ = (Index("ix_net_terms_receivable_open", "terms_account_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    terms_account_id: int = Field(sa_column=Column(Integer, ForeignKey("net_terms_account.id", ondelete="CASCADE"),
                                                   nullable=False))
    order_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("orders.id", ondelete="SET NULL"),
                                                                index=True))
    #: The reservation whose open credit it took over.
    reservation_id: int = Field(sa_column=Column(Integer, ForeignKey("net_terms_reservation.id", ondelete="CASCADE"),
                                                 nullable=False, index=True))
    amount: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    currency: str = Field(max_length=3)
    #: ``open`` until paid.
    state: str = Field(default="open", max_length=16)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: The capture's key: a retried capture finds its receivable.
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    created_at: datetime = timestamp_field()
