"""GraphQL: submitCartForApproval, approveCart, rejectCart, withdrawCartApproval, the cartApprovals
inbox, Cart.approval and Cart.approvalExplain."""
from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.approvals import carts as approvals
from runtime.approvals import core
from runtime.approvals.inbox import pending_for
from runtime.approvals.models import ApprovalRequest
from runtime.carts.models import Cart
from runtime.carts.resolvers import cache, remember
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import check_first, connection, decode_cursor, money
from runtime.money import Money
from runtime.state_machines import StateMachineErrorCode

mutation = MutationType()
query = QueryType()
cart_type = ObjectType("Cart")


#: Attempts when another transaction moved the cart between our read and our write (SQLite,
#: whose reads take no row lock; PostgreSQL locks the cart and the request first).
ATTEMPTS = 3


def _mutate(info, work) -> dict:
    ctx = context_of(info)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            cart = ctx.db.run(lambda session: work(session, ctx.actor))
            break
        except BusinessError as exc:
            if exc.code != StateMachineErrorCode.STATE_CHANGED.value or attempt == ATTEMPTS:
                raise
    remember(info, cart)
    return {"cart": cart}


@mutation.field("submitCartForApproval")
@payload
def resolve_submit(_, info, cart_id: str, note: str | None = None):
    return _mutate(info, lambda s, actor: approvals.submit(s, actor, cart_id, note))


@mutation.field("approveCart")
@payload
def resolve_approve(_, info, cart_id: str, note: str | None = None):
    return _mutate(info, lambda s, actor: approvals.approve(s, actor, cart_id, note))


@mutation.field("rejectCart")
@payload
def resolve_reject(_, info, cart_id: str, reason: str):
    return _mutate(info, lambda s, actor: approvals.reject(s, actor, cart_id, reason))


@mutation.field("withdrawCartApproval")
@payload
def resolve_withdraw(_, info, cart_id: str):
    return _mutate(info, lambda s, actor: approvals.withdraw(s, actor, cart_id))


@query.field("cartApprovals")
def resolve_inbox(_, info, filter: dict | None = None, first: int = 20, after: str | None = None):
    ctx = context_of(info)
    try:
        check_first(first, "INVALID_FILTER")
        key = decode_cursor(after, "INVALID_FILTER") if after else None
        if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
            raise BusinessError("INVALID_FILTER", "after: not a cursor this API returned", field="after")
        with ctx.reads() as session:
            rows = pending_for(session, ctx.actor, filter, first, key[0] if key else None)
    except BusinessError as exc:
        raise query_error(info, exc) from None
    found = cache(info).setdefault("approvals", {})
    for cart, request in rows:
        found.setdefault(cart.id, request)
    remember(info, *(cart for cart, _ in rows))
    carts = [cart for cart, _ in rows]
    return connection(carts, first, lambda cart: [found[cart.id].id], after=after is not None)


def _loaded(info, cart: Cart) -> dict[str, Any]:
    """Latest request, decisions and rejections of every cart this request answers with, loaded
    together the first time one is asked for (three statements however many carts)."""
    memo = cache(info).setdefault("approval_views", {})
    if cart.id not in memo:
        ids = sorted({cart.id, *cache(info)["carts"]} - set(memo))
        with context_of(info).reads() as session:
            latest: dict[int, ApprovalRequest] = {}
            for row in session.exec(select(ApprovalRequest).where(ApprovalRequest.subject_type == approvals.SUBJECT,
                                                                  ApprovalRequest.subject_id.in_(ids))
                                    .order_by(ApprovalRequest.id)).all():
                latest[row.subject_id] = row
            cast = core.decisions(session, [r.id for r in latest.values()])
            rejected = approvals.rejections(session, ids)
        for cart_id in ids:
            request = latest.get(cart_id)
            memo[cart_id] = {"request": request, "decisions": cast.get(request.id, []) if request else [],
                             "rejections": rejected.get(cart_id, [])}
    return memo[cart.id]


def _phases(request: ApprovalRequest | None, decisions: list, plan_phases: list[dict]) -> list[dict]:
    names = [p["name"] for p in plan_phases]
    current = request.current_phase if request is not None else None
    out = []
    for phase in plan_phases:
        if request is None:
            status = "waiting"
        elif request.status == "approved" or (current in names and names.index(phase["name"]) < names.index(current)):
            status = "done"
        else:
            status = "current" if phase["name"] == current else "waiting"
        counts = core.tier_counts(request, decisions, phase["name"]) if request is not None else {}
        out.append({"name": phase["name"], "mode": phase["mode"], "status": status,
                    "tiers": [{"name": t["name"], "quorum": t["quorum"], "approvals": counts.get(t["name"], 0),
                               "roles": t.get("roles", []), "users": t.get("users", []), "routes": t.get("routes", [])}
                              for t in phase["tiers"]]})
    return out


@cart_type.field("approval")
def resolve_approval(cart: Cart, info):
    view = _loaded(info, cart)
    request = view["request"]
    actor = context_of(info).actor
    if request is None or not core.may_see(request, actor):
        return None
    return {
        "id": str(request.id), "status": request.status, "current_phase": request.current_phase,
        "requested_by": request.requester_email, "note": request.note,
        "approved_grand_total": money(Money(request.amount, request.currency)),
        "routes": request.plan.get("routes", []),
        "phases": _phases(request, view["decisions"], request.plan.get("phases", [])),
        "approvals": [{"approver": d.approver_email, "approved": d.approved, "phase": d.phase, "tier": d.tier,
                       "note": d.note, "at": d.at} for d in view["decisions"]],
        "rejections": [{"rejected_by": r.email, "reason": r.reason, "phase": r.phase, "tier": r.tier, "at": r.at}
                       for r in view["rejections"]],
        "fault": request.fault, "submitted_at": request.created_at, "decided_at": request.decided_at,
    }


@cart_type.field("approvalExplain")
def resolve_explain(cart: Cart, info):
    ctx = context_of(info)
    if ctx.actor.user_id is None or cart.user_id != ctx.actor.user_id:
        return None  # only the buyer asks what submitting would need
    with ctx.reads() as session:
        routed = approvals.routing(session, cart, ctx.actor.roles, approvals.grand_total(session, cart, ctx.actor))
    plan = core.plan_document(routed.plan, routed.revisions)
    return {"required": routed.plan.required,
            "routes": [{**e.to_dict(), "requester_matched": e.requester_matched,
                        "revision": routed.revisions.get(e.route, 0)} for e in routed.explanations],
            "phases": _phases(None, [], plan["phases"])}


bindables = [mutation, query, cart_type]
