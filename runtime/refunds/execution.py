"""Executing approved refunds exactly once per tender, whatever dies when.

``execute_refund(request_id)`` is the job on the ``refunds`` queue (queued after the approving
commit, by a retry, and by the reconciliation). It runs in short transactions:

1. **claim**: lock the request; ``approved`` fires ``execute``; an ``executing`` request is taken
   only when nobody's lease runs (``lease_until`` past or unset); the lease is set and
   ``attempts`` counted. A second delivery of the job finds the lease held and does nothing.
2. **per leg**, in the plan's order: (a) a gateway leg is marked ``executing`` and committed, so a
   later run knows an earlier one may have reached the gateway; (b) lock the tender's
   authorisation row and the leg; a leg already ``done`` is skipped; a gateway leg found
   ``executing`` asks the gateway what happened for its idempotency key (``lookup``) before
   anything else; otherwise the tender type refunds it (``TenderType.undo`` with the key
   ``refund:<request>:<tender>``: the gateway for a card; the ledger for store credit and gift
   cards, whose entry commits with everything else, so a ledger leg needs no mark); the payment
   row, its refund child and the leg's ``done`` commit together. A refusal marks the leg
   ``failed`` with its code and message.
3. **finish**: every leg done → ``succeed`` (``executed``), the order's payment status, promotion
   usage released on a full refund, ``refund.executed`` for automations; a failed leg → ``fail``
   with the per-leg detail and a ``workflow.fault``.

Crash points: killed before (a) — the claim's lease runs out, the reconciliation queues the job,
the leg is still pending and runs once. Between (a) and the gateway — the next run looks the key
up, finds nothing, refunds (once: same key). After the gateway answered, before (b) committed —
the lookup finds the refund and records it without a second call (and a gateway without lookup
replays the keyed answer). Ledger legs commit with their ledger entry, keyed too. Between legs and
before finish — done legs are skipped, the rest resume.

``reconcile_refunds`` (periodic, every minute) queues the job for requests ``executing`` past
their lease and ``approved`` ones whose job never came (one indexed query when nothing is stuck).
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Flask, current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import and_, or_
from sqlmodel import Session, select

from runtime.approvals import core
from runtime.approvals.events import fault
from runtime.approvals.models import EXPIRED, PENDING
from runtime.automations.events import publish_event
from runtime.channels.providers import providers
from runtime.clock import utcnow
from runtime.db import lock_row
from runtime.errors import BusinessError, BusinessErrors
from runtime.jobs import REFUNDS, enqueue, get_dispatcher
from runtime.money import Money
from runtime.orders.models import Order
from runtime.orders.transitions import apply
from runtime.payments.events import payment_event
from runtime.payments.gateway import SLOT
from runtime.payments.models import PaymentTransaction
from runtime.promotions.usage import release_usage
from runtime.refunds.models import LEG_DONE, LEG_EXECUTING, LEG_FAILED, LEG_PENDING, RefundLeg, RefundRequest
from runtime.refunds.service import SUBJECT, SYSTEM
from runtime.state_machines import fire
from runtime.tenders.models import PaymentTender
from runtime.tenders.types import Undo, tender_types

log = logging.getLogger(__name__)

#: How long a worker's claim on an executing request lasts (``VECTIS_REFUND_LEASE_SECONDS``).
LEASE_SECONDS = 120
#: An ``approved`` request whose job did not start within this is queued again.
APPROVED_GRACE_SECONDS = 60
#: How often the reconciliation runs.
RECONCILE_INTERVAL_SECONDS = 60
#: Requests one reconciliation run queues at most (the rest wait for the next run).
RECONCILE_BATCH = 500
#: The fault code of a failed execution.
FAULT = "REFUND_EXECUTION_FAILED"


def _seconds(app: Flask, name: str, default: int) -> int:
    return int(app.config.get(name) or os.environ.get(name) or default)


def lease_seconds(app: Flask) -> int:
    """``VECTIS_REFUND_LEASE_SECONDS`` (app config, else environment), else :data:`LEASE_SECONDS`."""
    return _seconds(app, "VECTIS_REFUND_LEASE_SECONDS", LEASE_SECONDS)


def approved_grace(app: Flask) -> int:
    """``VECTIS_REFUND_APPROVED_GRACE_SECONDS``, else :data:`APPROVED_GRACE_SECONDS`."""
    return _seconds(app, "VECTIS_REFUND_APPROVED_GRACE_SECONDS", APPROVED_GRACE_SECONDS)


def execute_refund(request_id: int) -> str:
    """The job: claim, run each leg not done, finish; returns the request's state afterwards."""
    app = current_app._get_current_object()
    database = app.extensions["vectis.db"]
    claimed = database.run(lambda session: _claim(app, session, int(request_id)))
    if claimed is None:
        return "skipped"
    for leg_id in claimed:
        _run_leg(app, leg_id)
    return database.run(lambda session: _finish(session, int(request_id)))


def external(leg: RefundLeg) -> bool:
    """Whether the leg's money sits at a payment gateway (a registry key ``<pack>.payment_gateway.<name>``),
    where a call can succeed while our commit is lost; ledger tenders commit with their entry."""
    return leg.gateway.split(".")[1:2] == [SLOT]


def _claim(app: Flask, session: Session, request_id: int) -> list[int] | None:
    request = lock_row(session, RefundRequest, request_id, missing_ok=True)
    if request is None:
        return None
    now = utcnow()
    if request.state == "approved":
        fire(session, request, "execute", SYSTEM)
    elif request.state != "executing" or (request.lease_until is not None and request.lease_until > now):
        return None
    request.lease_until = now + timedelta(seconds=lease_seconds(app))
    request.attempts += 1
    request.updated_at = now
    session.add(request)
    return list(session.exec(select(RefundLeg.id).where(RefundLeg.request_id == request_id,
                                                        RefundLeg.state.in_((LEG_PENDING, LEG_EXECUTING)))
                             .order_by(RefundLeg.sequence)))


def _run_leg(app: Flask, leg_id: int) -> None:
    database = app.extensions["vectis.db"]
    # A gateway leg is marked executing in a commit of its own first, so that a run after a crash
    # knows to ask the gateway; a ledger leg refunds, marks and commits in one transaction.
    marked = database.run(lambda session: _start_leg(session, leg_id, commit_mark=True))
    if marked is None:
        return
    uncertain, gateway = marked
    try:
        database.run(lambda session: _refund_leg(app, session, leg_id, uncertain, started=gateway))
    except (BusinessError, BusinessErrors) as exc:
        errors = getattr(exc, "errors", [exc])
        database.run(lambda session: _fail_leg(session, leg_id, errors))


def _start_leg(session: Session, leg_id: int, *, commit_mark: bool) -> tuple[bool, bool] | None:
    """Mark the leg executing (with ``commit_mark``: only a gateway leg, in this transaction).
    Returns (uncertain: an earlier run had started it and may have reached the gateway, marked
    now), or None when there is nothing to do."""
    leg = lock_row(session, RefundLeg, leg_id)
    if leg.state not in (LEG_PENDING, LEG_EXECUTING):
        return None
    if commit_mark and not external(leg):
        return False, False
    uncertain = leg.state == LEG_EXECUTING
    leg.state, leg.attempts, leg.started_at = LEG_EXECUTING, leg.attempts + 1, utcnow()
    leg.error_code = leg.error_message = None
    session.add(leg)
    return uncertain, True


def _refund_leg(app: Flask, session: Session, leg_id: int, uncertain: bool, *, started: bool) -> None:
    leg = session.get(RefundLeg, leg_id)
    tender = session.get(PaymentTender, leg.tender_id)
    payment = lock_row(session, PaymentTransaction, tender.payment_transaction_id)
    leg = lock_row(session, RefundLeg, leg_id)
    if not started:  # a ledger leg: marked here, with its refund
        if _start_leg(session, leg_id, commit_mark=False) is None:
            return
    elif leg.state != LEG_EXECUTING:
        return
    order = session.get(Order, tender.order_id)
    money = Money(leg.amount, leg.currency)
    reference = _looked_up(session, order, payment, leg) if uncertain else None
    if reference is None:
        entry = tender_types(app).get(tender.type)
        if entry is None:
            raise BusinessError("TENDER_TYPE_MISSING", f"tender type {tender.type!r} is not registered (was its pack "
                                "removed?)", field="tender")
        reference = entry.value.undo(session, order, payment, Undo("refund", money, leg.idempotency_key))
    payment.refunded_amount += leg.amount
    full = payment.refunded_amount >= payment.captured_amount and payment.captured_amount >= payment.amount
    apply(session, payment, "refund" if full else "refund_partial", SYSTEM, {"amount": float(leg.amount)})
    session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type="refund", state="succeeded",
                                   gateway=payment.gateway, gateway_reference=reference,
                                   idempotency_key=leg.idempotency_key, amount=leg.amount, currency=leg.currency,
                                   actor=SYSTEM.label, message=f"refund request {leg.request_id}"))
    leg.state, leg.gateway_reference, leg.finished_at = LEG_DONE, reference, utcnow()
    session.add(leg)
    payment_event(session, "payment.refunded", payment, order, money)


def _looked_up(session: Session, order: Order, payment: PaymentTransaction, leg: RefundLeg) -> str | None:
    """What the gateway did for the leg's key, if the leg's tender is at a gateway that can say."""
    provider = next((p for p in providers(session, order.channel_id, SLOT) if p.key == payment.gateway), None)
    lookup = getattr(provider.value, "lookup", None) if provider is not None else None
    if lookup is None:
        return None  # a ledger tender (atomic with its entry) or a gateway without lookup: its keyed replay
    found = lookup(leg.idempotency_key, provider.config)
    return found.transaction_id if found is not None else None


def _fail_leg(session: Session, leg_id: int, errors: list[BusinessError]) -> None:
    leg = lock_row(session, RefundLeg, leg_id)
    if leg.state not in (LEG_PENDING, LEG_EXECUTING):
        return
    first = errors[0]
    leg.state, leg.finished_at = LEG_FAILED, utcnow()
    leg.error_code = str(getattr(first.code, "value", first.code))[:64]
    leg.error_message = first.message[:2000]
    session.add(leg)


def _finish(session: Session, request_id: int) -> str:
    request = lock_row(session, RefundRequest, request_id)
    if request.state != "executing":
        return request.state
    legs = list(session.exec(select(RefundLeg).where(RefundLeg.request_id == request_id).order_by(RefundLeg.sequence)))
    if any(leg.state in (LEG_PENDING, LEG_EXECUTING) for leg in legs):
        return request.state  # another run holds a leg; its finish (or the reconciliation) completes it
    request.lease_until, request.updated_at = None, utcnow()
    failed = [leg for leg in legs if leg.state == LEG_FAILED]
    approval = core.latest(session, SUBJECT, request.id)
    if failed:
        request.failure = {"legs": [{"tender_id": str(leg.tender_id), "type": leg.type, "code": leg.error_code,
                                     "message": leg.error_message} for leg in failed]}
        fire(session, request, "fail", SYSTEM)
        reason = "; ".join(f"{leg.type} leg of {leg.amount} {leg.currency}: {leg.error_message}" for leg in failed)
        if approval is not None:
            fault(session, approval, FAULT, reason[:2000], "execution")
        return request.state
    request.failure, request.executed_at = None, utcnow()
    fire(session, request, "succeed", SYSTEM)
    order = session.get(Order, request.order_id)
    _order_refunded(session, order)
    publish_event(session, {"id": f"refund.executed:{request.id}", "type": "refund.executed",
                            "occurred_at": utcnow().isoformat(), "account_id": request.buyer or "unknown",
                            "entity_id": str(request.id), "amount": float(request.amount),
                            "currency": request.currency, "payload": {"order_id": str(order.id)}})
    return request.state


def _order_refunded(session: Session, order: Order) -> None:
    payments = list(session.exec(select(PaymentTransaction).where(PaymentTransaction.order_id == order.id,
                                                                  PaymentTransaction.parent_id.is_(None))))
    captured = sum((p.captured_amount for p in payments), Decimal(0))
    refunded = sum((p.refunded_amount for p in payments), Decimal(0))
    order.payment_status = "refunded" if captured and refunded >= captured else "partially_refunded"
    order.updated_at = utcnow()
    session.add(order)
    if order.payment_status == "refunded":
        release_usage(session, order)


def job_id(request_id: int, attempts: int) -> str:
    """One job id per request and attempt: a job still queued is not queued again."""
    return f"refund-{request_id}-{attempts}"


def reconcile_refunds(app: Flask | None = None) -> int:
    """Queue the job for every request stuck in ``executing`` past its lease, or ``approved``
    without a job; returns how many were queued. A request whose job for its current attempt is
    still waiting in the queue (a backlog, not a crash) is left to it."""
    app = app or current_app._get_current_object()
    now = utcnow()
    grace = now - timedelta(seconds=approved_grace(app))
    stuck = or_(and_(RefundRequest.state == "executing",
                     or_(RefundRequest.lease_until < now,
                         and_(RefundRequest.lease_until.is_(None), RefundRequest.updated_at < grace))),
                and_(RefundRequest.state == "approved", RefundRequest.state_entered_at < grace))
    with app.extensions["vectis.db"].session() as session:
        found = session.exec(select(RefundRequest.id, RefundRequest.attempts).where(stuck)
                             .order_by(RefundRequest.id).limit(RECONCILE_BATCH)).all()
    dispatcher, queued = get_dispatcher(app), 0
    for request_id, attempts in found:
        if _waiting(dispatcher, job_id(request_id, attempts)):
            continue
        log.info("refund request %s is stuck; queued again", request_id)
        enqueue(execute_refund, request_id, queue=REFUNDS, job_id=job_id(request_id, attempts))
        queued += 1
    return queued


def _waiting(dispatcher, job: str) -> bool:
    if dispatcher.in_process:
        return False
    try:
        return Job.fetch(job, connection=dispatcher.connection).get_status() == JobStatus.QUEUED
    except NoSuchJobError:
        return False


def expire_effect(call: Any) -> None:
    """``core.expire_refund_approval``: a request nobody decided expired; its approval closes too."""
    for request_id in call.entity_ids:
        approval = core.latest(call.session, SUBJECT, int(request_id), lock=True)
        if approval is not None and approval.status == PENDING:
            core.close(call.session, approval, EXPIRED, "nobody decided in time")

