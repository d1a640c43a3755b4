"""Quorum preservation: an approver archived or removed (user or employee deactivated, role taken
away) never disables a request in flight. Decisions already cast stay counted (they are rows); a
tier whose remaining eligible approvers can no longer reach its quorum is flagged — the request
carries the fault ``QUORUM_UNREACHABLE`` (shown on ``cart.approval.fault``), a ``workflow.fault``
and an ``approval.step`` ``quorum_at_risk`` event go out for the account's admins — instead of
hanging silently — and an :class:`~runtime.approvals.models.ApprovalAlert` is opened in the same
transaction, which the account's admins read (``approvalAlerts``, the admin inbox). When the tier
can reach its quorum again (an approver reactivated or given the role), the fault and the alert are
cleared and an ``approval.step`` ``quorum_restored`` event goes out. Checked when a request opens
or moves to a phase, and by the periodic ``ApprovalQuorumCheck`` job over every pending request.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func
from sqlmodel import Session, select

from runtime.accounts.models import Employee
from runtime.approvals import core
from runtime.approvals.alerts import UNREACHABLE, resolve_alerts, raise_alert
from runtime.approvals.events import fault, step_event
from runtime.approvals.models import PENDING, ApprovalRequest
from runtime.auth.models import Role, User, UserRole

#: Requests checked per transaction by the periodic job.
BATCH = 200


def _eligible(session: Session, request: ApprovalRequest, tier: dict, decided: set[int]) -> int:
    """Active users who could still approve ``tier`` (not the requester, not already decided)."""
    if tier.get("permissions"):  # staff subjects (refunds): anyone whose role grants one of them
        wanted = set(tier["permissions"])
        holding = [role.name for role in session.exec(select(Role))
                   if "*" in role.permissions or wanted & set(role.permissions)]
        statement = (select(func.count(func.distinct(User.id))).join(UserRole, UserRole.user_id == User.id)
                     .where(UserRole.role_name.in_(holding), User.is_active))
    elif tier.get("roles"):
        if request.account_id is None:
            return 0
        statement = (select(func.count(func.distinct(User.id))).join(UserRole, UserRole.user_id == User.id)
                     .join(Employee, Employee.user_id == User.id)
                     .where(UserRole.role_name.in_(tier["roles"]), User.is_active, Employee.is_active,
                            Employee.account_id == request.account_id))
    else:
        named = [user.lower() for user in tier.get("users", [])]
        statement = (select(func.count(func.distinct(User.id))).outerjoin(Employee, Employee.user_id == User.id)
                     .where(func.lower(User.email).in_(named), User.is_active,
                            (Employee.id.is_(None)) | (Employee.is_active & (Employee.account_id == request.account_id))))
    excluded = decided | ({request.requester_user_id} if request.requester_user_id is not None else set())
    if excluded:
        statement = statement.where(User.id.not_in(sorted(excluded)))
    return session.exec(statement).one()


def unreachable(session: Session, request: ApprovalRequest) -> list[str]:
    """The open tiers of the current phase that can no longer reach their quorum, each described."""
    cast = core.decisions(session, [request.id])[request.id]
    counts = core.tier_counts(request, cast, request.current_phase)
    decided = {d.approver_user_id for d in cast if d.phase == request.current_phase}
    found = []
    for tier in core.open_tiers(request, cast):
        have, eligible = counts.get(tier["name"], 0), _eligible(session, request, tier, decided)
        if have + eligible < tier["quorum"]:
            found.append(f"tier {tier['name']!r} of phase {request.current_phase!r} needs {tier['quorum']} approvals: "
                         f"{have} cast, {eligible} eligible approver(s) left")
    return found


def check(session: Session, request: ApprovalRequest) -> bool:
    """Flag ``request`` when a tier became unreachable (once per phase), or clear the flag when
    every tier can reach its quorum again; True when flagged now."""
    if request.status != PENDING:
        return False
    problems = unreachable(session, request)
    already = (request.fault or {}).get("code") == UNREACHABLE and (request.fault or {}).get("phase") == request.current_phase
    if not problems:
        if already:
            resolve_alerts(session, request, request.current_phase, "the tier can reach its quorum again")
            step_event(session, request, "quorum_restored", "system:approvals", phase=request.current_phase)
        return False
    if already:
        return False
    reason = "; ".join(problems) + " (an account admin must add approvers or change the route)"
    fault(session, request, UNREACHABLE, reason, request.current_phase)
    raise_alert(session, request, UNREACHABLE, reason)
    step_event(session, request, "quorum_at_risk", "system:approvals", phase=request.current_phase, note=reason[:2000])
    return True


def check_pending() -> int:
    """The periodic job: every pending request, in batches by id; returns how many were flagged."""
    database = current_app.extensions["vectis.db"]
    flagged, after = 0, 0
    while True:
        def work(session):
            rows = session.exec(select(ApprovalRequest).where(ApprovalRequest.status == PENDING,
                                                               ApprovalRequest.id > after)
                                .order_by(ApprovalRequest.id).limit(BATCH)).all()
            return [r.id for r in rows], sum(check(session, r) for r in rows)
        ids, count = database.run(work)
        flagged += count
        if len(ids) < BATCH:
            return flagged
        after = ids[-1]

