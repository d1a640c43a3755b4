"""``approval_route``: a sample cart and requester → the combined plan (phases, tiers, quorum)
under the live routes and under the live routes with this draft in place of its live revision,
side by side, with the draft's explain; and a simulation over the last N days of placed B2B
orders: how many would have needed approval, per route, live and draft.

The sample cart is a cart's id (its token: the cart fact is built as placeOrder would) or a cart
fact as JSON (``{"total": 1200, "account": "acme-tools"}``). Historical orders are read as cart
facts with their total, account, currency, item count and channel; the requester's roles are the
orderer's current roles. Nothing is written.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from rules.approval_route import ApprovalRoute, combine, explain, select as select_routes
from sqlmodel import select

from runtime.accounts.models import Account
from runtime.approvals.carts import KIND, fact_of
from runtime.auth.models import UserRole
from runtime.carts.models import Cart
from runtime.channels.models import Channel
from runtime.clock import utcnow
from runtime.definitions.live import live_definitions
from runtime.orders.models import Order
from runtime.promotions.facts import number

#: Longest simulation window (days) and most orders read.
MAX_DAYS, MAX_ORDERS = 365, 20_000


def _sample(session, text: str) -> tuple[dict[str, Any] | None, str | None]:
    text = text.strip()
    if not text:
        return None, None
    if text.startswith("{"):
        try:
            fact = json.loads(text)
        except ValueError as exc:
            return None, f"sample cart: not JSON ({exc.msg} at column {exc.colno})"
        return (fact, None) if isinstance(fact, dict) else (None, "sample cart: expected a JSON object")
    cart = session.exec(select(Cart).where(Cart.token == text)).first()
    if cart is None:
        return None, f"sample cart: no cart {text!r}"
    return fact_of(session, cart), None


def _plan(routes: list[ApprovalRoute], fact: dict, roles: list[str]) -> dict[str, Any]:
    plan = combine(select_routes(routes, fact, roles))
    return {"routes": list(plan.routes), "phases": plan.to_dict()}


def _simulate(session, live: list[ApprovalRoute], drafted: list[ApprovalRoute], days: int) -> dict[str, Any]:
    since = utcnow() - timedelta(days=days)
    rows = session.exec(select(Order, Account.slug, Channel.slug).join(Account, Account.id == Order.account_id)
                        .join(Channel, Channel.id == Order.channel_id)
                        .where(Order.account_id.is_not(None), Order.created_at >= since)
                        .order_by(Order.id.desc()).limit(MAX_ORDERS)).all()
    users = sorted({order.user_id for order, _, _ in rows if order.user_id is not None})
    roles: dict[int, list[str]] = {}
    if users:
        for user_id, role in session.exec(select(UserRole.user_id, UserRole.role_name).where(UserRole.user_id.in_(users))):
            roles.setdefault(user_id, []).append(role)
    counts = {"live": {}, "draft": {}}
    for order, account, channel in rows:
        fact = {"total": number(order.total), "account": account, "account_id": str(order.account_id),
                "currency": order.currency, "item_count": order.item_count, "channel": channel,
                "subtotal": number(order.subtotal), "discount_total": number(order.discount_total)}
        held = roles.get(order.user_id, [])
        for side, routes in (("live", live), ("draft", drafted)):
            for route in select_routes(routes, fact, held):
                counts[side][route.name] = counts[side].get(route.name, 0) + 1
    return {"days": days, "orders": len(rows), "live": counts["live"], "draft": counts["draft"]}


def preview(app, session, draft: ApprovalRoute, live: ApprovalRoute | None, form) -> dict[str, Any]:
    live_routes = [d.compiled for d in live_definitions(app).all(KIND)]
    drafted = [route for route in live_routes if route.name != draft.name] + [draft]
    roles = [role.strip() for role in form.get("approval_roles", "").split(",") if role.strip()]
    fact, error = _sample(session, form.get("approval_cart", ""))
    result: dict[str, Any] = {"error": error, "roles": roles, "has_live": live is not None}
    if fact is not None:
        result.update(live_plan=_plan(live_routes, fact, roles), draft_plan=_plan(drafted, fact, roles),
                      explain=explain([draft], fact, roles)[0].to_dict())
    raw_days = form.get("approval_days", "30").strip() or "30"
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= MAX_DAYS:
        result["error"] = f"days: expected 1 to {MAX_DAYS}, got {raw_days!r}"
    else:
        result["simulation"] = _simulate(session, live_routes, drafted, int(raw_days))
    return result
