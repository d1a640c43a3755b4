"""Tier timeouts of cart approvals (``timeout: {after, then}`` of a route's tier), run by the
``ApprovalTierTimeouts`` periodic job: a tier nobody brought to its quorum within ``after`` either
expires the request (``expire``: the cart machine's ``expire_approval`` fires, whose effect expires
the request) or hands over to the next tier of its sequence (``escalate``: the tier is marked
escalated on the request's plan, the next tier's approvers get it in their inbox).

A tier's clock starts when it could first decide: the phase's start for a parallel phase or the
first tier of a sequence; for a later tier of a sequence, the last decision or escalation in the
phase before it. The 14-day timer of the cart machine's pending states stays the ceiling.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from rules.approval_route import SEQUENCE
from sqlmodel import Session, select

from runtime.approvals import core
from runtime.approvals.carts import SUBJECT
from runtime.approvals.events import step_event
from runtime.approvals.models import PENDING, ApprovalRequest
from runtime.approvals.quorum import check as check_quorum
from runtime.carts.models import Cart
from runtime.clock import utcnow
from runtime.state_machines import SystemActor, fire

SYSTEM = SystemActor("system:approval-timeout")
#: Requests handled per transaction.
BATCH = 200


def _started(request: ApprovalRequest, phase: dict, cast: list) -> datetime:
    start = request.phase_started_at
    if phase["mode"] != SEQUENCE:
        return start
    moments = [d.at for d in cast if d.phase == phase["name"]]
    moments += [datetime.fromisoformat(at) for at in phase.get("escalated", {}).values()]
    return max([start, *moments])


def handle(session: Session, request: ApprovalRequest, now: datetime) -> str | None:
    """Apply the first timeout due on ``request``; returns ``"expire"``, ``"escalate"`` or None."""
    phase = core.phase_of(request, request.current_phase)
    if request.status != PENDING or phase is None:
        return None
    cast = core.decisions(session, [request.id])[request.id]
    for tier in core.open_tiers(request, cast):
        timeout = tier.get("timeout")
        if not timeout or now - _started(request, phase, cast) < timedelta(seconds=timeout["seconds"]):
            continue
        if timeout["then"] == "expire":
            cart = session.get(Cart, request.subject_id, with_for_update=True)
            fire(session, cart, "expire_approval", SYSTEM)  # its effect expires the request
            return "expire"
        core.escalate(session, request, tier["name"])
        step_event(session, request, "escalated", SYSTEM.label, phase=request.current_phase, tier=tier["name"])
        check_quorum(session, request)
        return "escalate"
    return None


def run_timeouts() -> dict[str, int]:
    """The periodic job: every pending cart request, in batches by id."""
    database = current_app.extensions["vectis.db"]
    done: dict[str, int] = {}
    after = 0
    while True:
        def work(session):
            rows = session.exec(select(ApprovalRequest).where(ApprovalRequest.status == PENDING,
                                                               ApprovalRequest.subject_type == SUBJECT,
                                                               ApprovalRequest.id > after)
                                .order_by(ApprovalRequest.id).limit(BATCH).with_for_update()).all()
            now = utcnow()
            return [r.id for r in rows], [handle(session, r, now) for r in rows]
        ids, outcomes = database.run(work)
        for outcome in filter(None, outcomes):
            done[outcome] = done.get(outcome, 0) + 1
        if len(ids) < BATCH:
            return done
        after = ids[-1]
