"""GraphQL: submitCartForApproval, approveCart, rejectCart, withdrawCartApproval, curateCartTenders,
the cartApprovals inbox, approvalAlerts, Cart.approval (with its tender split) and Cart.approvalExplain."""
from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.approvals import alerts
from runtime.approvals import carts as approvals
from runtime.approvals import core
from runtime.approvals import tenders as curation
from runtime.approvals.inbox import pending_for
from runtime.approvals.models import ApprovalRequest
from runtime.carts.models import Cart
from runtime.carts.resolvers import cache, remember
from runtime.errors import BusinessError, BusinessErrors
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import check_first, connection, decode_cursor, money
from runtime.money import Money
from runtime.state_machines import StateMachineErrorCode, run_moving
from runtime.tenders.errors import TenderErrorCode

mutation = MutationType()
query = QueryType()
cart_type = ObjectType("Cart")
approval_type = ObjectType("CartApproval")

#: Codes of ``ApprovalErrorCode`` a tender refusal keeps; another domain's (a card's payment
#: method error) is answered as INVALID_TENDER with its message.
TENDER_CODES = frozenset(code.value for code in TenderErrorCode) & {
    "NOT_FOUND", "UNKNOWN_TENDER_TYPE", "INVALID_AMOUNT", "INVALID_TENDER", "TENDERS_EXCEED_TOTAL", "TENDERS_NOT_COVERED",
    "INSUFFICIENT_STORE_CREDIT", "UNKNOWN_GIFT_CARD", "GIFT_CARD_EXPIRED", "INSUFFICIENT_GIFT_CARD_BALANCE",
    "NO_NET_TERMS", "CREDIT_LIMIT_EXCEEDED", "CURRENCY_MISMATCH", "NO_OWNER"}
APPROVAL_CODES = frozenset(code.value for code in core.ApprovalErrorCode)


def _approval_codes(exc: BusinessError | BusinessErrors) -> BusinessErrors:
    errors = [e if e.code in APPROVAL_CODES | TENDER_CODES else
              BusinessError(TenderErrorCode.INVALID_TENDER.value, e.message, field=e.field, **e.params)
              for e in getattr(exc, "errors", [exc])]
    return BusinessErrors(errors)


def _curating(work):
    """``work`` raising a tender refusal in ``ApprovalErrorCode``."""
    def run(session, actor):
        try:
            return work(session, actor)
        except (BusinessError, BusinessErrors) as exc:
            if getattr(exc, "code", None) == StateMachineErrorCode.STATE_CHANGED.value:
                raise
            raise _approval_codes(exc) from None
    return run


def _mutate(info, work) -> dict:
    ctx = context_of(info)
    cart = run_moving(ctx.db, lambda session: work(session, ctx.actor))
    remember(info, cart)
    return {"cart": cart}


@mutation.field("submitCartForApproval")
@payload
def resolve_submit(_, info, cart_id: str, note: str | None = None):
    return _mutate(info, lambda s, actor: approvals.submit(s, actor, cart_id, note))


@mutation.field("approveCart")
@payload
def resolve_approve(_, info, cart_id: str, note: str | None = None, tenders: list | None = None):
    if tenders is None:
        return _mutate(info, lambda s, actor: approvals.approve(s, actor, cart_id, note))

    def curate_then_approve(session, actor):
        curation.curate(session, actor, *approvals.approver_cart(session, actor, cart_id), tenders, note,
                        reason_field="note")
        return approvals.approve(session, actor, cart_id, note)

    return _mutate(info, _curating(curate_then_approve))


@mutation.field("curateCartTenders")
@payload
def resolve_curate(_, info, cart_id: str, tenders: list, reason: str):
    def curate(session, actor):
        cart, request = approvals.approver_cart(session, actor, cart_id)
        curation.curate(session, actor, cart, request, tenders, reason)
        return cart

    return _mutate(info, _curating(curate))


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


@query.field("approvalAlerts")
def resolve_alerts(_, info, open: bool = True, first: int = 20, after: str | None = None):
    ctx = context_of(info)
    ctx.require(alerts.READ)
    try:
        check_first(first, "INVALID_FILTER")
        key = decode_cursor(after, "INVALID_FILTER") if after else None
        if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
            raise BusinessError("INVALID_FILTER", "after: not a cursor this API returned", field="after")
        with ctx.reads() as session:
            found = alerts.alerts_for(session, ctx.actor, open_only=open is not False, first=first,
                                      after_id=key[0] if key else None)
            carts = [a.subject_id for a in found if a.subject_type == approvals.SUBJECT]
            tokens = dict(session.exec(select(Cart.id, Cart.token).where(Cart.id.in_(carts))).all()) if carts else {}
    except BusinessError as exc:
        raise query_error(info, exc) from None
    nodes = [{"id": str(a.id), "key": a.id, "code": a.code, "reason": a.reason, "phase": a.phase,
              "subject_type": a.subject_type, "cart_id": tokens.get(a.subject_id) if a.subject_type == approvals.SUBJECT
              else None, "account_id": None if a.account_id is None else str(a.account_id), "raised_at": a.raised_at,
              "cleared_at": a.cleared_at, "cleared_reason": a.cleared_reason} for a in found]
    return connection(nodes, first, lambda node: [node["key"]], after=after is not None)


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
        "_cart": cart, "_request": request,
    }


@approval_type.field("tenderSplit")
def resolve_tender_split(approval: dict, info):
    request = approval["_request"]
    if request.status != "pending" and request.status != "approved":
        return None  # nothing will be paid under this request
    split = curation.split_of(context_of(info).db, approval["_cart"].id, request.id, context_of(info).actor)
    problem = None
    if split.problem is not None:
        problem = _approval_codes(split.problem).errors[0].as_dict()
    return {"total": money(split.total), "problem": problem,
            "cascade": None if split.cascade is None else {"name": split.cascade.name, "revision": split.cascade.revision},
            "legs": [{"position": leg.position, "type": leg.type, "amount": money(leg.amount), "source": leg.source}
                     for leg in split.legs]}


@approval_type.field("tenderCurations")
def resolve_tender_curations(approval: dict, info):
    request = approval["_request"]
    with context_of(info).reads() as session:
        rows = curation.curations(session, [request.id])[request.id]
    return [{"curated_by": r.email, "reason": r.reason, "phase": r.phase, "before": r.before, "after": r.after,
             "at": r.at} for r in rows]


@cart_type.field("approvedGrandTotal")
def resolve_approved_grand_total(cart: Cart, info):
    request = _loaded(info, cart)["request"]
    if request is None or request.status != "approved" or not core.may_see(request, context_of(info).actor):
        return None
    return money(Money(request.amount, request.currency))


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


bindables = [mutation, query, cart_type, approval_type]
