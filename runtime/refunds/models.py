"""Refund requests and their per-tender legs.

A :class:`RefundRequest` runs on the ``refund_request`` machine (its ``state`` column); its
approvals live in the generic approvals core (``approval_request`` with subject ``refund_request``).
Each :class:`RefundLeg` is what one tender of the order gives back: a plain progress column
(``pending`` → ``executing`` → ``done`` | ``failed``), the unique idempotency key the gateway or
ledger sees, and the gateway's reference once it answered.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import json_field, timestamp_field
from runtime.state_machines.models import state_entered_at_field, state_field, state_index

#: ``RefundLeg.state`` values.
LEG_PENDING, LEG_EXECUTING, LEG_DONE, LEG_FAILED = "pending", "executing", "done", "failed"
#: Refund request states whose legs still reserve money against the captured amounts (the cap).
RESERVING = ("approved", "executing", "failed")


def _money():
    return Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))


class RefundRequest(SQLModel, table=True):
    """One refund asked for on one order: how much and why, who asked, who decided, where it is."""

    __tablename__ = "refund_request"
    __table_args__ = (state_index("refund_request"),
                      Index("ix_refund_request_order", "order_id", "id"),
                      Index("ix_refund_request_lease", "state", "lease_until"))

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(sa_column=Column(Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False))
    state: str = state_field()
    state_entered_at: datetime = state_entered_at_field()
    currency: str = Field(max_length=3)
    #: The whole refund, tax included; ``tax_amount`` and ``shipping_amount`` are its parts.
    amount: Decimal = _money()
    tax_amount: Decimal = _money()
    shipping_amount: Decimal = _money()
    #: What was asked: ``{"kind": "order"|"lines"|"amount", "lines": [{line_id, quantity, amount,
    #: tax}], "shipping": bool}``.
    scope: dict = json_field(default_factory=dict)
    #: One of the refund_request fact's reasons (damaged, not_received…), and free text.
    reason: str = Field(max_length=32)
    note: str = Field(default="", max_length=2000)
    requester_user_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))
    requester_email: str = Field(default="", max_length=254)
    #: The order's buyer, copied so automations correlate by it: ``account:<id>`` or ``customer:<id>``.
    buyer: str = Field(default="", max_length=64)
    #: Approvals the policy (the machine's ``approve`` guard) asked for when it was submitted.
    approvals_needed: int = Field(default=1)
    #: Approving decisions cast so far (the ``approve`` guard reads it).
    approvals: int = Field(default=0)
    approval_request_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("approval_request.id", ondelete="SET NULL"), nullable=True))
    #: Who decided last (approved, rejected, cancelled), when, and their note.
    decided_by: str = Field(default="", max_length=254)
    decided_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    decision_note: str = Field(default="", max_length=2000)
    #: Executions started (the machine's ``retry`` guard stops at its limit: then a person decides).
    attempts: int = Field(default=0)
    #: While ``executing``: the worker's claim runs until then; past it the reconciliation resumes it.
    lease_until: datetime | None = timestamp_field(nullable=True, default_now=False)
    #: Why it failed last (``{"legs": [{tender_id, code, message}]}``), cleared on success.
    failure: dict | None = Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=True))
    executed_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()


class RefundLeg(SQLModel, table=True):
    """What one tender gives back for one request, and how far it got."""

    __tablename__ = "refund_leg"
    __table_args__ = (UniqueConstraint("request_id", "tender_id", name="uq_refund_leg_request_tender"),
                      Index("ix_refund_leg_tender_state", "tender_id", "state"))

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("refund_request.id", ondelete="CASCADE"),
                                             nullable=False, index=True))
    tender_id: int = Field(sa_column=Column(Integer, ForeignKey("payment_tender.id", ondelete="RESTRICT"), nullable=False))
    #: The tender's position on the order and its type (``card``, ``store_credit``, ``gift_card``…).
    position: int
    type: str = Field(max_length=32)
    #: Order of execution (0 first): the reverse of the tender cascade by default.
    sequence: int = Field(default=0)
    amount: Decimal = _money()
    currency: str = Field(max_length=3)
    state: str = Field(default=LEG_PENDING, max_length=16)
    #: ``refund:<request id>:<tender id>``: the same on every attempt, so nothing is refunded twice.
    idempotency_key: str = Field(sa_column=Column(String(160), nullable=False, unique=True))
    gateway: str = Field(default="", max_length=160)
    gateway_reference: str | None = Field(default=None, max_length=128)
    attempts: int = Field(default=0)
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, max_length=2000)
    started_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    finished_at: datetime | None = timestamp_field(nullable=True, default_now=False)
