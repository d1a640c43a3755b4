"""Alerts for an account admin: a pending request whose tier can no longer reach its quorum
(:mod:`runtime.approvals.quorum`) opens an :class:`ApprovalAlert` in the transaction that flags it,
so the account's admins (``approvals.alerts``) and staff see it in ``approvalAlerts`` and the admin
inbox whether or not an automation or webhook listens to the events. The alert is cleared when the
tier can reach its quorum again (an approver added back) or the phase ends (decided, rejected,
withdrawn, expired, superseded).

Reading is keyset-paginated by id, one statement per page.
"""
from __future__ import annotations

from sqlmodel import Session, select

from runtime.approvals.models import ApprovalAlert, ApprovalRequest
from runtime.auth.permissions import Actor
from runtime.clock import utcnow

#: Permission of account admins (their own account's alerts) and staff (every account's).
READ = "approvals.alerts"
#: The code of a tier that can no longer reach its quorum (the request's fault and its alert).
UNREACHABLE = "QUORUM_UNREACHABLE"


def raise_alert(session: Session, request: ApprovalRequest, code: str, reason: str) -> ApprovalAlert:
    """Open an alert for ``request``'s current phase (once: an open one of the same code is kept)."""
    found = session.exec(select(ApprovalAlert).where(ApprovalAlert.request_id == request.id,
                                                     ApprovalAlert.phase == request.current_phase,
                                                     ApprovalAlert.code == code,
                                                     ApprovalAlert.cleared_at.is_(None))).first()
    if found is not None:
        return found
    alert = ApprovalAlert(request_id=request.id, account_id=request.account_id, subject_type=request.subject_type,
                          subject_id=request.subject_id, phase=request.current_phase or "", code=code,
                          reason=reason[:2000], raised_at=utcnow())
    session.add(alert)
    session.flush()
    return alert


def clear_alerts(session: Session, request: ApprovalRequest, why: str, *, phase: str | None = None) -> int:
    """Clear the open alerts of ``request`` (of one ``phase``, or all); how many were cleared."""
    statement = select(ApprovalAlert).where(ApprovalAlert.request_id == request.id, ApprovalAlert.cleared_at.is_(None))
    if phase is not None:
        statement = statement.where(ApprovalAlert.phase == phase)
    now, cleared = utcnow(), 0
    for alert in session.exec(statement).all():
        alert.cleared_at, alert.cleared_reason = now, why[:200]
        session.add(alert)
        cleared += 1
    return cleared


def resolve_alerts(session: Session, request: ApprovalRequest, phase: str | None, why: str) -> None:
    """``phase`` of ``request`` is over (decided, or the request closed): its alerts are cleared, and
    a quorum fault of that phase no longer shows on the subject."""
    clear_alerts(session, request, why, phase=phase)
    fault = request.fault or {}
    if fault.get("code") == UNREACHABLE and fault.get("phase") == phase:
        request.fault = None
        session.add(request)


def alerts_for(session: Session, actor: Actor, *, open_only: bool, first: int, after_id: int | None
               ) -> list[ApprovalAlert]:
    """The alerts ``actor`` may read, oldest first: an account admin's own account's; staff (no
    account) every account's. The caller checks :data:`READ`."""
    statement = select(ApprovalAlert)
    if actor.account_id is not None:
        statement = statement.where(ApprovalAlert.account_id == actor.account_id)
    elif actor.is_buyer:
        return []  # a B2C customer administers no account
    if open_only:
        statement = statement.where(ApprovalAlert.cleared_at.is_(None))
    if after_id is not None:
        statement = statement.where(ApprovalAlert.id > after_id)
    return list(session.exec(statement.order_by(ApprovalAlert.id).limit(first + 1)).all())
