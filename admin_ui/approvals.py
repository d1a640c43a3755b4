"""The approver's inbox page (``approvals.decide``): pending carts whose current phase the signed-in
staff member may decide (named in a route's tier), with filters by phase and age; approve with a
note or reject with a reason. The same service as the GraphQL operations: the same refusals
(self-approval, not an approver, already decided) are shown as messages."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from admin_ui import bp
from admin_ui.security import actor, database, requires
from runtime.approvals import carts as approvals
from runtime.approvals.inbox import pending_for
from runtime.clock import utcnow
from runtime.errors import BusinessError

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
    rows = []
    if error is None:
        try:
            with database().session() as s:
                rows = pending_for(s, actor(), filters, PAGE, None)[:PAGE]
        except BusinessError as exc:
            error = exc.message
    now = utcnow()
    shown = [{"cart": cart, "request": req, "age_hours": int((now - req.phase_started_at).total_seconds() // 3600)}
             for cart, req in rows]
    return render_template("admin/approvals.html", rows=shown, error=error, phase=filters["phase"] or "", age=age)


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
