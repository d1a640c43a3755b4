"""The approver's inbox: pending cart requests whose current phase the caller may decide now.

One statement per page whatever its size: requests join their slots (who may decide the current
phase: ``role:<name>`` for the account's role holders, ``user:<e-mail>`` for named approvers),
minus those the caller requested or already decided, keyset-paginated by request id.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, or_
from sqlmodel import Session, select

from runtime.approvals.carts import SUBJECT
from runtime.approvals.models import PENDING, ApprovalDecision, ApprovalRequest, ApprovalSlot
from runtime.auth.permissions import Actor
from runtime.carts.models import Cart
from runtime.clock import utcnow
from runtime.errors import BusinessError

#: Longest age filter accepted (a year).
MAX_AGE_HOURS = 24 * 366


def _filter_values(filters: dict[str, Any] | None) -> tuple[str | None, int | None]:
    filters = filters or {}
    phase, age = filters.get("phase"), filters.get("min_age_hours")
    if phase is not None and (not isinstance(phase, str) or not phase.strip() or len(phase) > 64):
        raise BusinessError("INVALID_FILTER", "filter.phase: expected a phase name like 'cart' or 'payment'",
                            field="filter.phase")
    if age is not None and not 0 <= age <= MAX_AGE_HOURS:
        raise BusinessError("INVALID_FILTER", f"filter.minAgeHours: expected 0 to {MAX_AGE_HOURS}, got {age}",
                            field="filter.minAgeHours")
    return (phase.strip() if phase else None), age


def pending_for(session: Session, actor: Actor, filters: dict | None, first: int, after_id: int | None
                ) -> list[tuple[Cart, ApprovalRequest]]:
    phase, age = _filter_values(filters)
    if actor.user_id is None:
        return []
    user_key = f"user:{actor.email.strip().lower()}" if actor.email else None
    role_keys = [f"role:{role}" for role in sorted(actor.roles)]
    allowed = []
    if role_keys and actor.account_id is not None:
        allowed.append(and_(ApprovalSlot.approver_key.in_(role_keys), ApprovalRequest.account_id == actor.account_id))
    if user_key:
        allowed.append(and_(ApprovalSlot.approver_key == user_key,
                            ApprovalRequest.account_id == actor.account_id if actor.account_id is not None else True))
    if not allowed:
        return []
    decided = exists().where(ApprovalDecision.request_id == ApprovalRequest.id,
                             ApprovalDecision.phase == ApprovalRequest.current_phase,
                             ApprovalDecision.approver_user_id == actor.user_id)
    matching = exists().where(ApprovalSlot.request_id == ApprovalRequest.id,
                              ApprovalSlot.phase == ApprovalRequest.current_phase, or_(*allowed))
    statement = (select(Cart, ApprovalRequest)
                 .join(Cart, Cart.id == ApprovalRequest.subject_id)
                 .where(ApprovalRequest.status == PENDING, ApprovalRequest.subject_type == SUBJECT, matching,
                        ~decided, or_(ApprovalRequest.requester_user_id.is_(None),
                                      ApprovalRequest.requester_user_id != actor.user_id)))
    if phase is not None:
        statement = statement.where(ApprovalRequest.current_phase == phase)
    if age is not None:
        statement = statement.where(ApprovalRequest.phase_started_at <= utcnow() - timedelta(hours=age))
    if after_id is not None:
        statement = statement.where(ApprovalRequest.id > after_id)
    return list(session.exec(statement.order_by(ApprovalRequest.id).limit(first + 1)).all())
