"""The approver's inbox page (``approvals.decide``): pending carts whose current phase the signed-in
staff member may decide (named in a route's tier), with filters by phase and age; approve with a
note or reject with a reason. A cart in its payment phase shows its tender split, which the
approver may re-curate (one ``type amount`` per line, and a reason). Staff holding
``approvals.alerts`` also see the open approval alerts (a tier that can no longer reach its
quorum). The same services as the GraphQL operations: the same refusals (self-approval, not an
approver, already decided, a split that does not add up) are shown as messages."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from admin_ui import bp
from admin_ui.security import actor, database, requires
from runtime.approvals import carts as approvals
from runtime.approvals import tenders as curation
from runtime.approvals.alerts import READ as READ_ALERTS
from runtime.approvals.alerts import alerts_for
from runtime.approvals.inbox import pending_for
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors

DECIDE = "approvals.decide"
#: Carts shown on the page.
PAGE = 100


@bp.get("/approvals")
@requires(DECIDE)
def approvals_inbox():
    filters = {"phase": request.args.get("phase") or None}
    age = request.args.get("min_age_hours", "").strip()
    error = None
    if age:
        if age.isdigit():
            filters["min_age_hours"] = int(age)
        else:
            error = f"filter.minAgeHours: expected a whole number of hours, got {age!r}"
    rows, open_alerts, who = [], [], actor()
    if error is None:
        try:
            with database().session() as s:
                rows = pending_for(s, who, filters, PAGE, None)[:PAGE]
        except BusinessError as exc:
            error = exc.message
    if who.has(READ_ALERTS):
        with database().session() as s:
            open_alerts = alerts_for(s, who, open_only=True, first=PAGE, after_id=None)[:PAGE]
    now = utcnow()
    shown = [{"cart": cart, "request": req, "age_hours": int((now - req.phase_started_at).total_seconds() // 3600),
              "split": curation.split_of(database(), cart.id, req.id, who)
              if req.current_phase == curation.PAYMENT_PHASE else None}
             for cart, req in rows]
    return render_template("admin/approvals.html", rows=shown, error=error, phase=filters["phase"] or "", age=age,
                           alerts=open_alerts)


def _split_lines(text: str) -> list[dict]:
    """``type amount`` per line (``card 17.90``) as tender inputs; a malformed line is refused by number."""
    tenders = []
    for number, line in enumerate((line.strip() for line in text.splitlines()), start=1):
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise BusinessError("INVALID_TENDER", f"tenders: line {number}: expected 'type amount' like 'card 17.90', "
                                f"got {line!r}", field="tenders")
        tenders.append({"type": parts[0], "amount": parts[1]})
    return tenders


@bp.post("/approvals/<token>/tenders")
@requires(DECIDE)
def curate_tenders(token: str):
    who = actor()
    try:
        tenders = _split_lines(request.form.get("tenders", ""))
        database().run(lambda s: curation.curate(s, who, *approvals.approver_cart(s, who, token), tenders,
                                                 request.form.get("reason", "")))
        flash(f"Tender split re-curated by {who.label}.")
    except (BusinessError, BusinessErrors) as exc:
        flash("; ".join(e.message for e in getattr(exc, "errors", [exc])), "error")
    return redirect(url_for("admin.approvals_inbox"))


@bp.post("/approvals/<token>/<decision>")
@requires(DECIDE)
def decide_cart(token: str, decision: str):
    who = actor()
    try:
        if decision == "approve":
            database().run(lambda s: approvals.approve(s, who, token, request.form.get("note", "")))
            flash(f"Approved by {who.label}.")
        elif decision == "reject":
            database().run(lambda s: approvals.reject(s, who, token, request.form.get("reason", "")))
            flash(f"Rejected by {who.label}.")
        else:
            flash(f"decision: expected approve or reject, got {decision!r}", "error")
    except BusinessError as exc:
        flash(exc.message, "error")
    return redirect(url_for("admin.approvals_inbox"))
