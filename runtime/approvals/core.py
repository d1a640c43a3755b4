"""The generic approval core: requests keyed by subject (a cart, a refund request), decisions and
N-of-M quorum per tier, phases in order, tiers in sequence or in parallel. Subject layers
(:mod:`runtime.approvals.carts`, later refunds) build the plan, move their own machine and decide
who belongs to the subject's account; this module never reads a subject's table.

Concurrency: every decision locks the request row (``SELECT … FOR UPDATE``) before counting, and
``approval_decision`` is unique per (request, phase, approver): two approvers deciding at once are
serialised and both counted; one approver deciding twice is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from rules.approval_route import SEQUENCE, Plan
from sqlalchemy import delete, func
from sqlmodel import Session, select

from runtime.approvals.alerts import resolve_alerts
from runtime.approvals.models import (
    APPROVED, PENDING, REJECTED, ApprovalDecision, ApprovalRequest, ApprovalSlot,
)
from runtime.auth.permissions import Actor
from runtime.clock import utcnow
from runtime.errors import BusinessError


class ApprovalErrorCode(str, Enum):
    NOT_FOUND = "NOT_FOUND"
    APPROVAL_NOT_REQUIRED = "APPROVAL_NOT_REQUIRED"
    SELF_APPROVAL = "SELF_APPROVAL"
    NOT_AN_APPROVER = "NOT_AN_APPROVER"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    REQUEST_NOT_PENDING = "REQUEST_NOT_PENDING"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOTE_TOO_LONG = "NOTE_TOO_LONG"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"
    APPROVAL_PRICE_DRIFT = "APPROVAL_PRICE_DRIFT"
    #: A tender split curated outside the ``payment`` phase.
    NOT_PAYMENT_PHASE = "NOT_PAYMENT_PHASE"


#: Longest note or reason kept.
MAX_NOTE = 2000


def plan_document(plan: Plan, revisions: dict[str, int]) -> dict[str, Any]:
    """The JSON a request keeps of its plan (so a later route revision never changes it)."""
    tolerance = plan.tolerance
    return {"routes": [{"name": name, "revision": revisions.get(name)} for name in plan.routes],
            "phases": [{"name": p.name, "mode": p.mode, "routes": list(p.routes),
                        "tiers": [{k: v for k, v in t.to_dict().items() if k != "timeout"}
                                  | ({"timeout": t.to_dict()["timeout"]} if t.timeout else {}) for t in p.tiers]}
                       for p in plan.phases],
            "tolerance": {"amount": None if tolerance.amount is None else format(tolerance.amount, "f"),
                          "percent": None if tolerance.percent is None else format(tolerance.percent, "f")}}


def check_note(value: Any, field: str, *, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise BusinessError(ApprovalErrorCode.REASON_REQUIRED, f"{field}: expected text", field=field)
    if required and not text:
        raise BusinessError(ApprovalErrorCode.REASON_REQUIRED, f"{field}: say why (a reason is required)", field=field)
    if len(text) > MAX_NOTE:
        raise BusinessError(ApprovalErrorCode.NOTE_TOO_LONG, f"{field}: at most {MAX_NOTE} characters, got {len(text)}",
                            field=field)
    return text


def approver_keys(actor: Actor) -> list[str]:
    """The slot keys ``actor`` answers to: each role, each permission, and the e-mail."""
    keys = [f"role:{role}" for role in sorted(actor.roles)] + [f"permission:{p}" for p in sorted(actor.permissions)]
    return keys + ([f"user:{actor.email.strip().lower()}"] if actor.email else [])


def phase_of(request: ApprovalRequest, name: str | None) -> dict[str, Any] | None:
    return next((p for p in request.plan.get("phases", []) if p["name"] == name), None)


def _write_slots(session: Session, request: ApprovalRequest) -> None:
    session.exec(delete(ApprovalSlot).where(ApprovalSlot.request_id == request.id))
    phase = phase_of(request, request.current_phase)
    if request.status != PENDING or phase is None:
        return
    counted = dict(session.exec(select(ApprovalDecision.tier, func.count()).where(
        ApprovalDecision.request_id == request.id, ApprovalDecision.phase == phase["name"],
        ApprovalDecision.approved).group_by(ApprovalDecision.tier)).all())
    short = waiting(phase, counted)
    # Only the tiers that may decide now (sequence: the first short of its quorum) fill inboxes.
    for tier in (short[:1] if phase["mode"] == SEQUENCE else short):
        keys = ([f"role:{r}" for r in tier.get("roles", [])] + [f"user:{u.lower()}" for u in tier.get("users", [])]
                + [f"permission:{p}" for p in tier.get("permissions", [])])
        session.add_all(ApprovalSlot(request_id=request.id, phase=phase["name"], tier=tier["name"], approver_key=key)
                        for key in keys)


def open_request(session: Session, *, subject_type: str, subject_id: int, account_id: int | None, requester: Actor,
                 plan: dict[str, Any], amount: Decimal, currency: str, subject_version: int, note: str) -> ApprovalRequest:
    now = utcnow()
    request = ApprovalRequest(subject_type=subject_type, subject_id=subject_id, account_id=account_id,
                              requester_user_id=requester.user_id, requester_email=requester.email or "", plan=plan,
                              current_phase=plan["phases"][0]["name"], subject_version=subject_version,
                              currency=currency, amount=amount, note=note, phase_started_at=now, created_at=now)
    session.add(request)
    session.flush()
    _write_slots(session, request)
    return request


def latest(session: Session, subject_type: str, subject_id: int, *, lock: bool = False) -> ApprovalRequest | None:
    statement = (select(ApprovalRequest).where(ApprovalRequest.subject_type == subject_type,
                                               ApprovalRequest.subject_id == subject_id)
                 .order_by(ApprovalRequest.id.desc()).limit(1))
    found = session.exec(statement).first()
    if found is not None and lock:
        found = session.exec(select(ApprovalRequest).where(ApprovalRequest.id == found.id)
                             .with_for_update().execution_options(populate_existing=True)).first()
    return found


def decisions(session: Session, request_ids: list[int]) -> dict[int, list[ApprovalDecision]]:
    """Every decision of the requests, in order (one statement)."""
    found: dict[int, list[ApprovalDecision]] = {rid: [] for rid in request_ids}
    if request_ids:
        for row in session.exec(select(ApprovalDecision).where(ApprovalDecision.request_id.in_(request_ids))
                                .order_by(ApprovalDecision.id)).all():
            found[row.request_id].append(row)
    return found


def tier_counts(request: ApprovalRequest, cast: list[ApprovalDecision], phase: str) -> dict[str, int]:
    counts = {tier["name"]: 0 for tier in (phase_of(request, phase) or {"tiers": []})["tiers"]}
    for decision in cast:
        if decision.phase == phase and decision.approved and decision.tier in counts:
            counts[decision.tier] += 1
    return counts


def open_tiers(request: ApprovalRequest, cast: list[ApprovalDecision]) -> list[dict[str, Any]]:
    """The tiers of the current phase that may take a decision now (sequence: the first one
    short of its quorum; parallel: every one short of it)."""
    phase = phase_of(request, request.current_phase)
    if request.status != PENDING or phase is None:
        return []
    short = waiting(phase, tier_counts(request, cast, phase["name"]))
    return short[:1] if phase["mode"] == SEQUENCE else short


def waiting(phase: dict[str, Any], counts: dict[str, int]) -> list[dict[str, Any]]:
    """The tiers of ``phase`` short of their quorum, but for those escalated past (a timeout)."""
    escalated = phase.get("escalated", {})
    return [t for t in phase["tiers"] if t["name"] not in escalated and counts.get(t["name"], 0) < t["quorum"]]


def escalate(session: Session, request: ApprovalRequest, tier: str) -> None:
    """The next tier of the current phase decides instead of ``tier`` (its timeout ran out)."""
    plan = {**request.plan, "phases": [
        {**p, "escalated": {**p.get("escalated", {}), tier: utcnow().isoformat()}} if p["name"] == request.current_phase
        else p for p in request.plan["phases"]]}
    request.plan = plan  # a new object, so the JSON column sees the change
    session.add(request)
    session.flush()
    _write_slots(session, request)


def member_of(tier: dict[str, Any], actor: Actor, account_id: int | None) -> bool:
    """Whether ``actor`` is an approver of ``tier`` for a subject of ``account_id``: a role holder
    must be an employee of that account; a named user must not be an employee of another one; a
    permission tier (staff subjects such as refunds) takes anyone holding one of its permissions."""
    if tier.get("permissions"):
        return any(actor.has(permission) for permission in tier["permissions"])
    if tier.get("roles"):
        return account_id is not None and actor.account_id == account_id and bool(set(tier["roles"]) & actor.roles)
    named = {user.lower() for user in tier.get("users", [])}
    return bool(actor.email) and actor.email.lower() in named and actor.account_id in (None, account_id)


def may_see(request: ApprovalRequest, actor: Actor) -> bool:
    """The requester, or any approver of any tier of the plan (decided or not)."""
    if actor.user_id is not None and actor.user_id == request.requester_user_id:
        return True
    return any(member_of(tier, actor, request.account_id)
               for phase in request.plan.get("phases", []) for tier in phase["tiers"])


def deciding_tier(session: Session, request: ApprovalRequest, actor: Actor, field: str = "cartId") -> dict[str, Any]:
    """The open tier of the pending ``request``'s current phase that ``actor`` decides for now;
    refuses self-approval, a second decision in the phase and anyone not an approver of it."""
    if actor.user_id is not None and actor.user_id == request.requester_user_id:
        raise BusinessError(ApprovalErrorCode.SELF_APPROVAL,
                            f"{field}: you requested this approval; someone else must decide it", field=field)
    cast = decisions(session, [request.id])[request.id]
    mine = next((d for d in cast if d.phase == request.current_phase and d.approver_user_id == actor.user_id), None)
    if mine is not None:
        raise BusinessError(ApprovalErrorCode.ALREADY_DECIDED,
                            f"{field}: you already decided phase {mine.phase!r} at {mine.at:%Y-%m-%d %H:%M} UTC",
                            field=field)
    tier = next((t for t in open_tiers(request, cast) if member_of(t, actor, request.account_id)), None)
    if tier is None:
        raise BusinessError(ApprovalErrorCode.NOT_AN_APPROVER,
                            f"{field}: you are not an approver of phase {request.current_phase!r} now", field=field)
    return tier


@dataclass(frozen=True)
class Decided:
    request: ApprovalRequest
    decision: ApprovalDecision
    phase_completed: bool
    #: The phase the request moved to (None when it finished or was rejected).
    next_phase: str | None


def decide(session: Session, request: ApprovalRequest, actor: Actor, *, approve: bool, note: str,
           field: str = "cartId") -> Decided:
    """Record ``actor``'s decision on the locked, pending ``request`` and move it on."""
    if request.status != PENDING:
        cast = decisions(session, [request.id])[request.id]
        last = next((d for d in reversed(cast)), None)
        who = f" by {last.approver_email} at {last.at:%Y-%m-%d %H:%M} UTC" if last and request.status in (APPROVED, REJECTED) else ""
        raise BusinessError(ApprovalErrorCode.REQUEST_NOT_PENDING,
                            f"{field}: the approval request is {request.status}{who}; nothing to decide", field=field)
    tier = deciding_tier(session, request, actor, field)
    now = utcnow()
    decision = ApprovalDecision(request_id=request.id, phase=request.current_phase, tier=tier["name"],
                                approver_user_id=actor.user_id, approver_email=actor.email, approved=approve,
                                note=note, at=now)
    session.add(decision)
    session.flush()
    if not approve:
        request.status, request.decided_at, request.outcome_reason = REJECTED, now, note
        resolve_alerts(session, request, request.current_phase, "rejected")
        _write_slots(session, request)
        session.add(request)
        return Decided(request, decision, False, None)
    counted = session.exec(select(ApprovalDecision.tier, func.count()).where(
        ApprovalDecision.request_id == request.id, ApprovalDecision.phase == request.current_phase,
        ApprovalDecision.approved).group_by(ApprovalDecision.tier)).all()
    counts = dict(counted)
    phase = phase_of(request, request.current_phase)
    if waiting(phase, counts):
        _write_slots(session, request)
        return Decided(request, decision, False, request.current_phase)
    resolve_alerts(session, request, phase["name"], "the phase reached its quorum")
    names = [p["name"] for p in request.plan["phases"]]
    following = names[names.index(phase["name"]) + 1:]
    if following:
        request.current_phase, request.phase_started_at = following[0], now
    else:
        request.status, request.decided_at, request.current_phase = APPROVED, now, None
    _write_slots(session, request)
    session.add(request)
    return Decided(request, decision, True, following[0] if following else None)


def close(session: Session, request: ApprovalRequest, status: str, reason: str = "") -> None:
    """End a pending request without a decision (withdrawn, expired, superseded)."""
    request.status, request.decided_at, request.outcome_reason = status, utcnow(), reason
    resolve_alerts(session, request, request.current_phase, f"request {status}")
    _write_slots(session, request)
    session.add(request)
