"""The events of approval requests, whatever their subject: ``approval.step`` for every step and
``workflow.fault`` for a fault (also kept on the request, so the subject shows it)."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from runtime.approvals.models import ApprovalRequest
from runtime.events.outbox import emit


def step_event(session: Session, request: ApprovalRequest, step: str, actor: str, **extra: Any) -> None:
    payload = {"request_id": str(request.id), "subject_type": request.subject_type,
               "subject_id": str(request.subject_id), "step": step, "actor": actor, "status": request.status, **extra}
    if request.account_id is not None:
        payload["account_id"] = str(request.account_id)
    emit(session, "approval.step", payload, key=str(request.subject_id))


def fault(session: Session, request: ApprovalRequest, code: str, reason: str, phase: str) -> None:
    """Keep the fault on the request and emit ``workflow.fault``."""
    request.fault = {"code": code, "reason": reason, "phase": phase}
    session.add(request)
    payload = {"subject_type": request.subject_type, "subject_id": str(request.subject_id),
               "request_id": str(request.id), "phase": phase, "code": code, "reason": reason}
    if request.account_id is not None:
        payload["account_id"] = str(request.account_id)
    emit(session, "workflow.fault", payload, key=str(request.subject_id))
