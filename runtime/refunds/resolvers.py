"""GraphQL: submitRefundForApproval, decideRefundApproval, cancelRefundRequest,
retryRefundExecution, refundRequests, refundRequest and Order.refundRequests with per-leg progress."""
from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.carts.resolvers import cache
from runtime.channels.service import set_channel_policy
from runtime.errors import BusinessError, Unauthenticated
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import check_first, connection, decode_cursor, money
from runtime.money import Money
from runtime.orders.models import Order
from runtime.refunds import service
from runtime.refunds.errors import RefundErrorCode as Code
from runtime.refunds.models import RefundRequest
from runtime.state_machines import run_moving

mutation = MutationType()
query = QueryType()
order_type = ObjectType("Order")
request_type = ObjectType("RefundRequest")
leg_type = ObjectType("RefundLeg")
channel_type = ObjectType("Channel")

def _signed_in(info):
    ctx = context_of(info)
    if not ctx.actor.authenticated:
        raise Unauthenticated("sign in first: this operation needs a bearer token")
    return ctx


def _mutate(info, work) -> dict:
    ctx = context_of(info)
    return {"refund_request": run_moving(ctx.db, lambda session: work(session, ctx.actor))}


@mutation.field("submitRefundForApproval")
@payload
def resolve_submit(_, info, order_id: str, input: dict):
    _signed_in(info)
    return _mutate(info, lambda s, actor: service.submit(s, actor, order_id, input))


@mutation.field("decideRefundApproval")
@payload
def resolve_decide(_, info, refund_request_id: str, approved: bool, notes: str | None = None,
                   plan: list | None = None):
    context_of(info).require(service.APPROVE)
    return _mutate(info, lambda s, actor: service.decide(s, actor, refund_request_id, approved, notes, plan))


@mutation.field("cancelRefundRequest")
@payload
def resolve_cancel(_, info, refund_request_id: str, notes: str | None = None):
    _signed_in(info)
    return _mutate(info, lambda s, actor: service.cancel(s, actor, refund_request_id, notes))


@mutation.field("retryRefundExecution")
@payload
def resolve_retry(_, info, refund_request_id: str):
    context_of(info).require(service.APPROVE)
    return _mutate(info, lambda s, actor: service.retry(s, actor, refund_request_id))


@query.field("refundRequests")
def resolve_requests(_, info, filter: dict | None = None, first: int = 20, after: str | None = None):
    ctx = _signed_in(info)
    try:
        check_first(first, Code.INVALID_FILTER.value)
        key = decode_cursor(after, Code.INVALID_FILTER.value) if after else None
        if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
            raise BusinessError(Code.INVALID_FILTER, "after: not a cursor this API returned", field="after")
        with ctx.reads() as session:
            rows = service.list_requests(session, ctx.actor, filter, first=first + 1, after=key[0] if key else None)
    except BusinessError as exc:
        raise query_error(info, exc) from None
    return connection(rows, first, lambda row: [row.id], after=after is not None)


@query.field("refundRequest")
def resolve_request(_, info, id: str):
    ctx = _signed_in(info)
    with ctx.reads() as session:
        try:
            return service.get(session, ctx.actor, id)
        except BusinessError:
            return None


@order_type.field("refundRequests")
def resolve_order_requests(order: Order, info):
    ctx = context_of(info)
    if not ctx.actor.authenticated:
        return []
    with ctx.reads() as session:
        rows = list(session.exec(select(RefundRequest).where(RefundRequest.order_id == order.id)
                                 .order_by(RefundRequest.id.desc())))
    if ctx.actor.has(service.APPROVE) or ctx.actor.has("orders.read"):
        return rows
    return [row for row in rows if row.requester_user_id is not None and row.requester_user_id == ctx.actor.user_id]


def _money(request: RefundRequest, value) -> dict[str, str]:
    return money(Money(value, request.currency))


def _loaded_legs(info, request: RefundRequest) -> list:
    """Every leg of the requests this answer shows, in one statement the first time one is asked for."""
    memo: dict[int, list] = cache(info).setdefault("refund_legs", {})
    if request.id not in memo:
        with context_of(info).reads() as session:
            memo.update(service.legs_of(session, [request.id]))
    return memo[request.id]


request_type.set_field("amount", lambda r, _: _money(r, r.amount))
request_type.set_field("taxAmount", lambda r, _: _money(r, r.tax_amount))
request_type.set_field("shippingAmount", lambda r, _: _money(r, r.shipping_amount))
request_type.set_field("requestedBy", lambda r, _: r.requester_email)
request_type.set_field("decidedBy", lambda r, _: r.decided_by or None)
request_type.set_field("legs", lambda r, info: _loaded_legs(info, r))


@request_type.field("orderNumber")
def resolve_order_number(request: RefundRequest, info) -> str:
    with context_of(info).reads() as session:
        return session.get(Order, request.order_id).number


leg_type.set_field("amount", lambda leg, _: money(Money(leg.amount, leg.currency)))

@mutation.field("setChannelRefundSelfService")
@payload
def resolve_set_refund_self_service(_, info, channel_slug: str, buyers_may_request: bool):
    ctx = context_of(info)
    ctx.require("channels.manage")
    return {"channel": ctx.db.run(lambda session: set_channel_policy(session, channel_slug,
                                                                     buyers_request_refunds=bool(buyers_may_request)))}


@channel_type.field("buyersMayRequestRefunds")
def resolve_buyers_may_request_refunds(channel, _info) -> bool:
    return channel.buyers_request_refunds


bindables: list[Any] = [mutation, query, order_type, request_type, leg_type, channel_type]
