"""The refund request API the GraphQL resolvers and the admin inbox call, each inside the caller's
transaction (``database.run``); a refusal raises :class:`BusinessError` and changes nothing.

    submit(session, actor, order_id, data)            -> RefundRequest  (state requested)
    decide(session, actor, request_id, approve, note, plan=None) -> RefundRequest
    cancel(session, actor, request_id, note)          -> RefundRequest  (state cancelled)
    retry(session, actor, request_id)                 -> RefundRequest  (failed -> executing)
    list_requests(session, actor, filter, first, after) / legs_of(session, ids) / get(session, actor, id)

Who may do what: submitting needs ``refunds.request`` (staff) or being the order's buyer while
their refund self-service is not paused (:mod:`runtime.refunds.review`); deciding, retrying and
reading every request need ``refunds.approve``; the requester never decides their own request.

Approvals go through the generic core (:mod:`runtime.approvals.core`), subject ``refund_request``:
one phase ``refund`` whose one tier is everyone holding ``refunds.approve``, with the quorum the
policy asks for. The policy is data: the ``approve`` guard of the live ``refund_request`` machine
reads ``amount`` and ``approvals``; the quorum is the least number of approvals it accepts
(:func:`approvals_needed`), fixed on the request when submitted.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlmodel import Session, select

from runtime.approvals import core
from runtime.approvals.core import ApprovalErrorCode
from runtime.approvals.events import step_event
from runtime.approvals.models import PENDING, WITHDRAWN
from runtime.auth.permissions import Actor
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.db import lock_row
from runtime.errors import BusinessError, BusinessErrors
from runtime.jobs import REFUNDS, enqueue
from runtime.orders.models import Order
from runtime.refunds import plan as plans
from runtime.refunds.errors import RefundErrorCode as Code
from runtime.refunds.models import LEG_DONE, LEG_FAILED, LEG_PENDING, RefundLeg, RefundRequest
from runtime.refunds.review import paused
from runtime.state_machines import SystemActor, fire
from runtime.state_machines.service import live_machine

SUBJECT = "refund_request"
MACHINE = "refund_request"
REQUEST, APPROVE = "refunds.request", "refunds.approve"
#: The most approvals a policy may ask for (the guard is tried with 1 … this many).
MAX_APPROVALS = 5
PHASE, TIER = "refund", "refund_approvers"
SYSTEM = SystemActor("system:refunds")
#: Filters of :func:`list_requests`.
FILTERS = ("state", "order_id", "requester", "older_than_hours", "newer_than_hours")
#: Ages a filter may name: a hundred years (beyond it the edge falls before year 1).
MAX_FILTER_HOURS = 24 * 366 * 100


def _order(session: Session, order_id: Any, *, lock: bool = False) -> Order:
    number = plans.as_int(order_id)
    order = session.get(Order, number) if number is not None else None
    if order is None:
        raise BusinessError(Code.NOT_FOUND, f"orderId: no order {order_id!r}", field="orderId")
    return lock_row(session, Order, order.id) if lock else order


def _owns(actor: Actor, order: Order) -> bool:
    if actor.user_id is not None and order.user_id == actor.user_id:
        return True
    return (actor.customer_id is not None and actor.customer_id == order.customer_id) or (
        actor.account_id is not None and actor.account_id == order.account_id)


def buyer_key(order: Order) -> str:
    """Who bought: the B2B account, else the customer, else the user (automations correlate by it)."""
    if order.account_id is not None:
        return f"account:{order.account_id}"
    if order.customer_id is not None:
        return f"customer:{order.customer_id}"
    return f"user:{order.user_id}" if order.user_id is not None else ""


def approvals_needed(amount: Decimal) -> int:
    """The least number of approvals the live machine's ``approve`` guard accepts for ``amount``."""
    machine = live_machine(current_app, MACHINE).compiled
    for count in range(1, MAX_APPROVALS + 1):
        fact = {"amount": float(amount), "approvals": count, "attempts": 0}
        if not machine.can_fire("requested", "approve", fact, None, None):
            return count
    raise BusinessError(Code.INVALID_AMOUNT, f"input: the refund policy accepts no approval of {amount} "
                        f"(the refund_request machine's approve guard)", field="input")


def submit(session: Session, actor: Actor, order_id: Any, data: dict[str, Any]) -> RefundRequest:
    order = _order(session, order_id, lock=True)
    staff = actor.has(REQUEST)
    if not staff and not _owns(actor, order):
        raise BusinessError(Code.NOT_FOUND, f"orderId: no order {order_id!r} of yours", field="orderId")
    if not staff and not session.get(Channel, order.channel_id).buyers_request_refunds:
        raise BusinessError(Code.SELF_SERVICE_OFF, f"orderId: refunds of order {order.number} are asked for by the "
                            "store's staff on this channel; contact the store", field="orderId")
    if not staff and paused(session, buyer_key(order)):
        raise BusinessError(Code.NOT_FOUND, "orderId: refunds of this account are under review; contact the store",
                            field="orderId")
    reason, note = data.get("reason"), _note(data.get("note"), "input.note")
    if reason not in plans.REASONS:
        raise BusinessError(Code.INVALID_REASON, f"input.reason: expected one of {', '.join(plans.REASONS)}, got "
                            f"{reason!r}", field="input.reason")
    if order.state == "cancelled":
        raise BusinessError(Code.ORDER_CANCELLED, f"orderId: order {order.number} is cancelled; its tenders were "
                            "given back on cancel", field="orderId")
    rooms = plans.refundable(session, order.id)
    if sum((room.captured for room in rooms), Decimal(0)) <= 0:
        raise BusinessError(Code.ORDER_NOT_PAID, f"orderId: order {order.number} has no captured payment to refund "
                            f"(payment status {order.payment_status})", field="orderId")
    figures = plans.figures(session, order, data)
    available = plans.rounded(sum((max(room.available, Decimal(0)) for room in rooms), Decimal(0)), order.currency)
    if figures.amount > available:
        raise BusinessError(Code.REFUND_EXCEEDS_REFUNDABLE, f"input: {figures.amount} {order.currency} is more than "
                            f"the {available} {order.currency} the order can still refund (refunds executed and "
                            "approved counted)", field="input", available=format(available, "f"))
    legs = (plans.given_plan(rooms, data["plan"], figures.amount, order.currency, "input.plan") if data.get("plan")
            else plans.default_plan(rooms, figures.amount))
    needed = approvals_needed(figures.amount)
    request = RefundRequest(order_id=order.id, state="requested", currency=order.currency, amount=figures.amount,
                            tax_amount=figures.tax, shipping_amount=figures.shipping, scope=figures.scope,
                            reason=reason, note=note, requester_user_id=actor.user_id, requester_email=actor.email,
                            buyer=buyer_key(order), approvals_needed=needed)
    session.add(request)
    session.flush()
    _write_legs(session, request, legs)
    approval = core.open_request(session, subject_type=SUBJECT, subject_id=request.id, account_id=None,
                                 requester=actor, plan=approval_plan(needed), amount=figures.amount,
                                 currency=order.currency, subject_version=1, note=note)
    request.approval_request_id = approval.id
    session.add(request)
    step_event(session, approval, "submitted", actor.label, phase=PHASE, note=note)
    session.flush()
    return request


def approval_plan(quorum: int) -> dict[str, Any]:
    """The approvals core's plan of a refund: one phase, one tier of ``refunds.approve`` holders."""
    return {"routes": [], "tolerance": {"amount": None, "percent": None},
            "phases": [{"name": PHASE, "mode": "parallel", "routes": [],
                        "tiers": [{"name": TIER, "quorum": quorum, "permissions": [APPROVE]}]}]}


def _write_legs(session: Session, request: RefundRequest, legs: list[tuple[plans.TenderRoom, Decimal]]) -> None:
    for old in session.exec(select(RefundLeg).where(RefundLeg.request_id == request.id)).all():
        session.delete(old)
    session.flush()
    for sequence, (room, amount) in enumerate(legs):
        session.add(RefundLeg(request_id=request.id, tender_id=room.tender.id, position=room.tender.position,
                              type=room.tender.type, sequence=sequence, amount=amount, currency=request.currency,
                              gateway=room.tender.gateway, idempotency_key=leg_key(request.id, room.tender.id)))
    session.flush()


def leg_key(request_id: int, tender_id: int) -> str:
    """The idempotency key of a leg, the same on every attempt and every worker."""
    return f"refund:{request_id}:{tender_id}"


def load(session: Session, request_id: Any, *, lock: bool = False) -> RefundRequest:
    """The request, locked (``SELECT … FOR UPDATE``; SQLite: a write that takes the file lock)."""
    number = plans.as_int(request_id)
    found = session.get(RefundRequest, number) if number is not None else None
    if found is None:
        raise BusinessError(Code.NOT_FOUND, f"refundRequestId: no refund request {request_id!r}",
                            field="refundRequestId")
    return lock_row(session, RefundRequest, number) if lock else found


def get(session: Session, actor: Actor, request_id: Any) -> RefundRequest:
    """A request the actor may read: an approver any, a requester their own."""
    request = load(session, request_id)
    if not actor.has(APPROVE) and (actor.user_id is None or actor.user_id != request.requester_user_id):
        raise BusinessError(Code.NOT_FOUND, f"refundRequestId: no refund request {request_id!r}",
                            field="refundRequestId")
    return request


def _not_pending(request: RefundRequest) -> BusinessError:
    who = (f": {request.decided_by} decided it at {request.decided_at:%Y-%m-%d %H:%M} UTC"
           if request.decided_by and request.decided_at else "")
    return BusinessError(Code.REQUEST_NOT_PENDING, f"refundRequestId: the refund request is {request.state}{who}; "
                         "nothing to decide", field="refundRequestId", state=request.state,
                         decidedBy=request.decided_by or None)


_CORE_CODES = {ApprovalErrorCode.SELF_APPROVAL: Code.SELF_APPROVAL, ApprovalErrorCode.ALREADY_DECIDED: Code.ALREADY_DECIDED,
               ApprovalErrorCode.REQUEST_NOT_PENDING: Code.REQUEST_NOT_PENDING,
               ApprovalErrorCode.NOTE_TOO_LONG: Code.NOTE_TOO_LONG, ApprovalErrorCode.REASON_REQUIRED: Code.INVALID_INPUT}


def _note(value: Any, field: str) -> str:
    try:
        return core.check_note(value, field)
    except BusinessError as exc:
        raise _as_refund_error(exc) from None


def _as_refund_error(exc: BusinessError) -> BusinessError:
    code = _CORE_CODES.get(exc.code, exc.code) if not isinstance(exc.code, str) else exc.code
    return BusinessError(code, exc.message, field=exc.field, **exc.params)


def decide(session: Session, actor: Actor, request_id: Any, approve: bool, note: Any,
           plan: list[dict[str, Any]] | None = None) -> RefundRequest:
    """One approver's decision. The last approval the quorum needs re-checks the cap under the
    order's row lock, moves the request to ``approved`` and queues its execution after commit."""
    request = load(session, request_id, lock=True)
    if request.state != "requested":
        raise _not_pending(request)
    if actor.user_id is not None and actor.user_id == request.requester_user_id:
        raise BusinessError(Code.SELF_APPROVAL, "refundRequestId: you requested this refund; someone else must "
                            "decide it", field="refundRequestId")
    try:
        text = core.check_note(note, "notes", required=not approve)
        approval = core.latest(session, SUBJECT, request.id, lock=True)
        decided = core.decide(session, approval, actor, approve=approve, note=text, field="refundRequestId")
    except BusinessError as exc:
        raise _as_refund_error(exc) from None
    now = utcnow()
    if not approve:
        request.decided_by, request.decided_at, request.decision_note = actor.email, now, text
        _fire(session, request, "reject", actor)
        step_event(session, approval, "rejected", actor.label, phase=PHASE, note=text)
        return request
    request.approvals += 1
    request.updated_at = now
    session.add(request)
    if decided.phase_completed:
        order = _order(session, request.order_id, lock=True)  # the cap: one approval per order at a time
        rooms = plans.refundable(session, order.id, excluding=request.id)
        if plan:
            _write_legs(session, request, plans.given_plan(rooms, plan, request.amount, request.currency, "plan"))
        else:
            _check_cap(session, request, rooms)
        request.decided_by, request.decided_at, request.decision_note = actor.email, now, text
        _fire(session, request, "approve", actor)
        enqueue_execution(session, request.id)
    step_event(session, approval, "approved", actor.label, phase=PHASE, note=text,
               phase_completed=decided.phase_completed)
    return request


def _check_cap(session: Session, request: RefundRequest, rooms: list[plans.TenderRoom]) -> None:
    by_tender = {room.tender.id: room for room in rooms}
    for leg in session.exec(select(RefundLeg).where(RefundLeg.request_id == request.id)).all():
        room = by_tender[leg.tender_id]
        if leg.amount > room.available:
            left = format(plans.rounded(max(room.available, Decimal(0)), leg.currency), "f")
            raise BusinessError(Code.REFUND_EXCEEDS_REFUNDABLE, f"refundRequestId: the {leg.type} tender can return "
                                f"{left} {leg.currency} now (other refunds were approved or executed since), not "
                                f"{leg.amount}; reject this request or approve it with a plan", field="refundRequestId",
                                available=left)


def _fire(session: Session, request: RefundRequest, transition: str, actor) -> None:
    try:
        fire(session, request, transition, actor)
    except BusinessErrors as exc:
        raise BusinessErrors([BusinessError(e.code, f"refundRequestId: {transition}: {e.message}",
                                            field="refundRequestId") for e in exc.errors]) from None
    request.updated_at = utcnow()
    session.add(request)


def enqueue_execution(session: Session, request_id: int) -> None:
    """Queue the execution job on the ``refunds`` queue once this transaction commits."""
    from runtime.refunds.execution import execute_refund, job_id  # it imports this module

    attempts = session.get(RefundRequest, request_id).attempts
    enqueue(execute_refund, request_id, queue=REFUNDS, job_id=job_id(request_id, attempts), session=session)


def cancel(session: Session, actor: Actor, request_id: Any, note: Any = None) -> RefundRequest:
    request = load(session, request_id, lock=True)
    mine = actor.user_id is not None and actor.user_id == request.requester_user_id
    if not actor.has(APPROVE) and not mine:
        raise BusinessError(Code.NOT_FOUND, f"refundRequestId: no refund request {request_id!r}",
                            field="refundRequestId")
    allowed = ("requested", "approved", "failed") if actor.has(APPROVE) else ("requested",)
    if request.state not in allowed:
        raise BusinessError(Code.REQUEST_NOT_CANCELLABLE, f"refundRequestId: a {request.state} refund request cannot "
                            f"be cancelled{'' if actor.has(APPROVE) else ' by its requester'}", field="refundRequestId",
                            state=request.state)
    text = _note(note, "notes")
    request.decided_by, request.decided_at, request.decision_note = actor.email, utcnow(), text
    _fire(session, request, "cancel", actor)
    approval = core.latest(session, SUBJECT, request.id, lock=True)
    if approval is not None and approval.status == PENDING:
        core.close(session, approval, WITHDRAWN, text or "cancelled")
    if approval is not None:
        step_event(session, approval, "withdrawn", actor.label, phase=PHASE)
    return request


def retry(session: Session, actor: Actor, request_id: Any) -> RefundRequest:
    """Resume a failed request: its legs not done go back to pending and the job runs again."""
    request = load(session, request_id, lock=True)
    if request.state != "failed":
        raise BusinessError(Code.REQUEST_NOT_FAILED, f"refundRequestId: only a failed refund request can be retried; "
                            f"this one is {request.state}", field="refundRequestId", state=request.state)
    try:
        fire(session, request, "retry", actor)
    except BusinessErrors as exc:
        if any(getattr(e.code, "value", e.code) == "GUARD_FAILED" for e in exc.errors):
            raise BusinessError(Code.RETRY_LIMIT_REACHED, f"refundRequestId: {request.attempts} attempts made, the "
                                "limit of the refund_request machine; a person must refund by hand and cancel it",
                                field="refundRequestId", attempts=request.attempts) from None
        raise
    for leg in session.exec(select(RefundLeg).where(RefundLeg.request_id == request.id,
                                                    RefundLeg.state == LEG_FAILED)).all():
        leg.state = LEG_PENDING
        session.add(leg)
    request.lease_until, request.updated_at = None, utcnow()
    session.add(request)
    enqueue_execution(session, request.id)
    return request


def legs_of(session: Session, request_ids: list[int]) -> dict[int, list[RefundLeg]]:
    found: dict[int, list[RefundLeg]] = {rid: [] for rid in request_ids}
    if request_ids:
        for leg in session.exec(select(RefundLeg).where(RefundLeg.request_id.in_(request_ids))
                                .order_by(RefundLeg.request_id, RefundLeg.sequence)).all():
            found[leg.request_id].append(leg)
    return found


def list_requests(session: Session, actor: Actor, filter: dict[str, Any] | None, *, first: int = 50,
                  after: int | None = None, order_id: int | None = None) -> list[RefundRequest]:
    """Requests newest first: an approver sees all, anyone else their own. ``filter``: ``state``
    (a list), ``order_id``, ``requester`` (e-mail), ``older_than_hours`` / ``newer_than_hours``."""
    filter = filter or {}
    statement = select(RefundRequest)
    if not actor.has(APPROVE):
        statement = statement.where(RefundRequest.requester_user_id == (actor.user_id or -1))
    states = filter.get("state")
    if states:
        statement = statement.where(RefundRequest.state.in_(list(states)))
    wanted_order = order_id if order_id is not None else (plans.as_int(filter["order_id"]) if filter.get("order_id") else None)
    if filter.get("order_id") and wanted_order is None:
        raise BusinessError(Code.INVALID_FILTER, f"filter.orderId: {filter['order_id']!r} is not an order id",
                            field="filter.orderId")
    if wanted_order is not None:
        statement = statement.where(RefundRequest.order_id == wanted_order)
    if filter.get("requester"):
        statement = statement.where(RefundRequest.requester_email == str(filter["requester"]).strip().lower())
    for key, name, older in (("older_than_hours", "olderThanHours", True), ("newer_than_hours", "newerThanHours", False)):
        hours = filter.get(key)
        if hours is None:
            continue
        if not isinstance(hours, int) or not 0 <= hours <= MAX_FILTER_HOURS:
            raise BusinessError(Code.INVALID_FILTER, f"filter.{name}: expected 0 to {MAX_FILTER_HOURS} hours, "
                                f"got {hours!r}", field=f"filter.{name}")
        edge = utcnow() - timedelta(hours=hours)
        statement = statement.where(RefundRequest.created_at <= edge if older else RefundRequest.created_at >= edge)
    if after is not None:
        if plans.as_int(after) is None:  # a forged cursor: an id no row can have
            raise BusinessError(Code.INVALID_FILTER, "after: not a cursor this API returned", field="after")
        statement = statement.where(RefundRequest.id < after)
    return list(session.exec(statement.order_by(RefundRequest.id.desc()).limit(first)))


def done_amount(legs: list[RefundLeg]) -> Decimal:
    return sum((leg.amount for leg in legs if leg.state == LEG_DONE), Decimal(0))
