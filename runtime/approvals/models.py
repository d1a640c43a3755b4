"""Approval requests and decisions, keyed by subject (a cart, later a refund request), and the
cart rejections. The generic core (:mod:`runtime.approvals.core`) reads and writes the first three;
the cart layer (:mod:`runtime.approvals.carts`) the rejections."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from runtime.db import MoneyAmount
from runtime.models import json_field, timestamp_field

#: ``ApprovalRequest.status`` values.
PENDING, APPROVED, REJECTED, WITHDRAWN, EXPIRED, SUPERSEDED = (
    "pending", "approved", "rejected", "withdrawn", "expired", "superseded")


class ApprovalRequest(SQLModel, table=True):
    """One request for approval of a subject: the plan it must pass (phases, tiers, quorum, the
    routes and their revisions), where it stands, and the amount approved."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_subject", "subject_type", "subject_id", "id"),
                      Index("ix_approval_request_inbox", "status", "account_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=32)
    subject_id: int
    #: The account whose approvers may decide (None: staff only, named by e-mail).
    account_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="SET NULL"), nullable=True))
    requester_user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))
    requester_email: str = Field(default="", max_length=254)
    status: str = Field(default=PENDING, max_length=16)
    #: ``{"routes": [{name, revision}], "phases": [{name, mode, tiers: [{name, quorum, roles, users}]}],
    #: "tolerance": {amount, percent}}``: fixed when submitted, so a later route revision never
    #: changes a request in flight.
    plan: dict = json_field(default_factory=dict)
    current_phase: str | None = Field(default=None, max_length=64)
    #: The subject's version when submitted (an edited cart needs a new request).
    subject_version: int = Field(default=1)
    currency: str = Field(default="", max_length=3)
    #: The grand total when submitted, kept as approved when the last phase approves.
    amount: Decimal = Field(default=Decimal(0), sa_column=Column(MoneyAmount(), nullable=False))
    note: str = Field(default="", max_length=2000)
    #: Why the request stopped (rejection reason, drift, expiry), and a fault shown on the subject.
    outcome_reason: str = Field(default="", max_length=2000)
    fault: dict | None = Field(default=None, sa_column=Column(json_field().sa_column.type, nullable=True))
    phase_started_at: datetime = timestamp_field()
    created_at: datetime = timestamp_field()
    decided_at: datetime | None = timestamp_field(nullable=True, default_now=False)


class ApprovalDecision(SQLModel, table=True):
    """One approver's decision in one phase: who, when, phase, tier, note. The unique key makes a
    second decision by the same approver in the same phase impossible, whatever the races."""

    __tablename__ = "approval_decision"
    __table_args__ = (UniqueConstraint("request_id", "phase", "approver_user_id", name="uq_approval_decision_approver"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("approval_request.id", ondelete="CASCADE"), nullable=False, index=True))
    phase: str = Field(max_length=64)
    tier: str = Field(max_length=64)
    approver_user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="RESTRICT"), nullable=False))
    approver_email: str = Field(max_length=254)
    approved: bool = Field(default=True)
    note: str = Field(default="", max_length=2000)
    at: datetime = timestamp_field()


class ApprovalSlot(SQLModel, table=True):
    """Who may decide the current phase of a pending request: one row per tier and approver key
    (``role:<name>`` or ``user:<e-mail>``). The inbox joins on it, so its cost does not depend on
    how many requests an approver cannot decide."""

    __tablename__ = "approval_slot"
    __table_args__ = (Index("ix_approval_slot_key", "approver_key", "request_id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("approval_request.id", ondelete="CASCADE"), nullable=False, index=True))
    phase: str = Field(max_length=64)
    tier: str = Field(max_length=64)
    approver_key: str = Field(sa_column=Column(String(280), nullable=False))


class CartRejectionEvent(SQLModel, table=True):
    """A rejection of a cart: who, why, in which phase. The cart returns to the buyer."""

    __tablename__ = "cart_rejection_event"

    id: int | None = Field(default=None, primary_key=True)
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False, index=True))
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("approval_request.id", ondelete="CASCADE"), nullable=False))
    phase: str = Field(max_length=64)
    tier: str = Field(default="", max_length=64)
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))
    email: str = Field(max_length=254)
    reason: str = Field(max_length=2000)
    at: datetime = timestamp_field()


class ApprovalTenderCuration(SQLModel, table=True):
    """A payment approver's re-curation of a cart's tender split: who, why, the split before and
    after (each leg: position, type, amount, source). The cart's tenders now carry the new split,
    so the order placed after approval pays with it."""

    __tablename__ = "approval_tender_curation"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("approval_request.id", ondelete="CASCADE"), nullable=False, index=True))
    cart_id: int = Field(sa_column=Column(Integer, ForeignKey("cart.id", ondelete="CASCADE"), nullable=False, index=True))
    phase: str = Field(max_length=64)
    user_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True))
    email: str = Field(max_length=254)
    reason: str = Field(max_length=2000)
    before: list = json_field()
    after: list = json_field()
    at: datetime = timestamp_field()


class ApprovalAlert(SQLModel, table=True):
    """A request that needs an account admin: a tier of its current phase can no longer reach its
    quorum. Open (``cleared_at`` null) until the tier can reach it again or the phase is decided,
    withdrawn or expired; the account's admins and staff read it (``approvalAlerts``)."""

    __tablename__ = "approval_alert"
    __table_args__ = (Index("ix_approval_alert_account", "account_id", "cleared_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(sa_column=Column(Integer, ForeignKey("approval_request.id", ondelete="CASCADE"), nullable=False, index=True))
    account_id: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("b2b_account.id", ondelete="SET NULL"), nullable=True))
    subject_type: str = Field(max_length=32)
    subject_id: int
    phase: str = Field(max_length=64)
    code: str = Field(max_length=64)
    reason: str = Field(max_length=2000)
    raised_at: datetime = timestamp_field()
    cleared_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    cleared_reason: str = Field(default="", max_length=200)
