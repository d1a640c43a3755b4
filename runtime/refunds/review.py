"""Buyers flagged for refund review: while flagged, a buyer's own refund self-service is paused
(staff may still submit for them). Set by the ``core.flag_refund_review`` effect, which the
shipped ``repeated_refunds`` automation runs on the third ``refund.executed`` of one buyer within
30 days; cleared by staff (:func:`clear`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, Session, SQLModel, select

from runtime.clock import utcnow
from runtime.models import timestamp_field
from runtime.state_machines.effects import EffectCall


class RefundReviewFlag(SQLModel, table=True):
    """One buyer (``account:<id>`` / ``customer:<id>`` / ``user:<id>``) under refund review."""

    __tablename__ = "refund_review_flag"

    id: int | None = Field(default=None, primary_key=True)
    buyer: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    #: Who flagged it (``automation:repeated_refunds``) and why.
    flagged_by: str = Field(max_length=254)
    reason: str = Field(default="", max_length=500)
    flagged_at: datetime = timestamp_field()
    cleared_at: datetime | None = timestamp_field(nullable=True, default_now=False)
    cleared_by: str | None = Field(default=None, max_length=254)


def paused(session: Session, buyer: str) -> bool:
    """Whether ``buyer``'s refund self-service is paused (flagged and not cleared)."""
    if not buyer:
        return False
    flag = session.exec(select(RefundReviewFlag).where(RefundReviewFlag.buyer == buyer)).first()
    return flag is not None and flag.cleared_at is None


def flag(session: Session, buyer: str, by: str, reason: str) -> RefundReviewFlag:
    """Flag ``buyer`` (again, if a flag was cleared); flagging a flagged buyer changes nothing."""
    found = session.exec(select(RefundReviewFlag).where(RefundReviewFlag.buyer == buyer)).first()
    if found is None:
        found = RefundReviewFlag(buyer=buyer, flagged_by=by[:254], reason=reason[:500])
    elif found.cleared_at is not None:
        found.flagged_by, found.reason, found.flagged_at = by[:254], reason[:500], utcnow()
        found.cleared_at = found.cleared_by = None
    session.add(found)
    session.flush()
    return found


def clear(session: Session, buyer: str, by: str) -> bool:
    found = session.exec(select(RefundReviewFlag).where(RefundReviewFlag.buyer == buyer)).first()
    if found is None or found.cleared_at is not None:
        return False
    found.cleared_at, found.cleared_by = utcnow(), by[:254]
    session.add(found)
    return True


def flag_effect(call: EffectCall) -> None:
    """``core.flag_refund_review``: an automation correlated by ``account_id`` (the buyer key of
    ``refund.executed``) flags each buyer it fired for, in the firing's transaction."""
    for buyer in call.entity_ids:
        flag(call.session, str(buyer), call.actor, f"{call.machine}: refunds executed in a short time")
