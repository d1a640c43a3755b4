"""The refund approvals inbox (``refunds.approve``): refund requests with their amount, order,
requester, age, reason and per-tender plan; filters by state (the live ``refund_request``
machine's states) and age; paging. Approve with a note or reject with one; retry a failed
request. Every action is the refunds service's (:mod:`runtime.refunds.service`), so its refusals
(self-approval, already decided by someone else, a note too long, not failed) are what the page
shows, and nothing changes. The requester gets no decide buttons on their own request."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from sqlmodel import select

from admin_ui import bp
from admin_ui.security import actor, database, requires
from runtime.approvals import core
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money
from runtime.orders.models import Order
from runtime.refunds import service
from runtime.refunds.errors import RefundErrorCode
from runtime.state_machines import run_moving
from runtime.state_machines.service import live_machine

APPROVE = service.APPROVE
#: Requests shown on one page.
PAGE = 25
#: The state shown when none is asked for; ``all`` shows every state.
DEFAULT_STATE, ALL = "requested", "all"
#: Age filters are bounded so the date they make stays a date (a century of hours).
MAX_HOURS = service.MAX_FILTER_HOURS
#: A refusal echoes at most this much of what was sent (a flashed message lives in the cookie).
SHOWN = 200
ACTIONS = ("approve", "reject", "retry")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…'"


def _states() -> tuple[str, ...]:
    return live_machine(current_app, service.MACHINE).compiled.states


def _hours(name: str) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 7 or int(text) > MAX_HOURS:
        raise BusinessError("INVALID_FILTER", f"{name}: expected a whole number of hours (0 to {MAX_HOURS}), got "
                            f"{_shown(text)}", field=name)
    return int(text)


def _filters() -> tuple[dict[str, Any], int | None]:
    """The service's filter and the paging cursor from the query string; a bad one is refused by name."""
    state = request.args.get("state", "").strip() or DEFAULT_STATE
    states = _states()
    if state != ALL and state not in states:
        raise BusinessError("INVALID_FILTER", f"state: expected one of {', '.join(states)} or {ALL}, got "
                            f"{_shown(state)}", field="state")
    filters: dict[str, Any] = {"state": None if state == ALL else [state],
                               "older_than_hours": _hours("min_age_hours"),
                               "newer_than_hours": _hours("max_age_hours")}
    after = request.args.get("after", "").strip()
    if after and (not after.isascii() or not after.isdigit() or len(after) > 18):
        raise BusinessError("INVALID_FILTER", f"after: not a page this inbox links to, got {_shown(after)}",
                            field="after")
    return filters, int(after) if after else None


def _money(amount, currency: str) -> str:
    """An amount at its currency's precision (the column keeps four places)."""
    return str(Money(amount, currency))


def _age(now: datetime, then: datetime) -> str:
    hours = int((now - then).total_seconds() // 3600)
    return f"{hours} h" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def _rows(session, who, filters: dict[str, Any], after: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """One page of requests with their legs, order numbers and approvals so far (four statements)."""
    found = service.list_requests(session, who, filters, first=PAGE + 1, after=after)
    page, more = found[:PAGE], len(found) > PAGE
    legs = service.legs_of(session, [r.id for r in page])
    numbers = dict(session.exec(select(Order.id, Order.number).where(Order.id.in_({r.order_id for r in page}))).all()) \
        if page else {}
    cast = core.decisions(session, [r.approval_request_id for r in page if r.approval_request_id is not None])
    now = utcnow()
    rows = []
    for r in page:
        decisions = cast.get(r.approval_request_id, [])
        rows.append({
            "request": r, "legs": legs[r.id], "order_number": numbers.get(r.order_id, str(r.order_id)),
            "age": _age(now, r.created_at), "approvers": [d for d in decisions if d.approved],
            "own": who.user_id is not None and who.user_id == r.requester_user_id,
            "mine": any(d.approver_user_id == who.user_id for d in decisions),
            "done": service.done_amount(legs[r.id]),
        })
    return rows, (page[-1].id if more else None)


@bp.get("/refund-approvals")
@requires(APPROVE)
def refund_approvals_inbox():
    who, rows, older, error = actor(), [], None, None
    states: tuple[str, ...] = ()
    try:
        states = _states()
        filters, after = _filters()
        with database().session() as s:
            rows, older = _rows(s, who, filters, after)
    except BusinessError as exc:
        error = exc.message
    kept = _kept(request.args)
    return render_template("admin/refund_approvals.html", rows=rows, error=error, states=states, all=ALL,
                           state=kept.get("state", DEFAULT_STATE), min_age=kept.get("min_age_hours", ""),
                           max_age=kept.get("max_age_hours", ""), kept=kept, older=older,
                           paged=bool(request.args.get("after")), money=_money)


def _kept(source) -> dict[str, str]:
    """The filters to carry to the next page and back after a POST (the GET checks them again)."""
    return {key: source.get(key, "").strip()[:SHOWN] for key in ("state", "min_age_hours", "max_age_hours")
            if source.get(key, "").strip()}


def _act(who, request_id: str, action: str):
    if not request_id.isascii() or not request_id.isdigit() or len(request_id) > 18:
        # not a row id at all (an integer column of either backend holds no more): the service's
        # own answer for an unknown id, without handing the database a number it cannot bind
        raise BusinessError(RefundErrorCode.NOT_FOUND, f"refundRequestId: no refund request {_shown(request_id)}",
                            field="refundRequestId")
    note = request.form.get("note", "")

    def work(session):
        if action == "retry":
            done = service.retry(session, who, request_id)
        else:
            done = service.decide(session, who, request_id, action == "approve", note)
        return done.id, done.state, done.approvals, done.approvals_needed, done.attempts

    return run_moving(database(), work)


def _done_message(who, action: str, number: int, state: str, approvals: int, needed: int, attempts: int) -> str:
    if action == "retry":
        return f"Refund request {number}: execution resumed by {who.label} (attempt {attempts + 1})."
    if action == "reject":
        return f"Refund request {number} rejected by {who.label}."
    if state == "requested":
        return (f"Refund request {number}: approval by {who.label} recorded ({approvals} of {needed}); "
                "it waits for another approver.")
    return f"Refund request {number} approved by {who.label}; its execution is queued."


@bp.post("/refund-approvals/<request_id>/<action>")
@requires(APPROVE)
def act_on_refund(request_id: str, action: str):
    who = actor()
    if action not in ACTIONS:
        flash(f"action: expected {', '.join(ACTIONS)}, got {_shown(action)}", "error")
    else:
        try:
            flash(_done_message(who, action, *_act(who, request_id, action)))
        except (BusinessError, BusinessErrors) as exc:
            message = "; ".join(e.message for e in getattr(exc, "errors", [exc]))
            flash(message if len(message) <= SHOWN * 2 else message[:SHOWN * 2] + "…", "error")
    return redirect(url_for("admin.refund_approvals_inbox", **_kept(request.form)))

