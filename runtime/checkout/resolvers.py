"""GraphQL resolvers of placeOrder and adminCreateOrder: one ``db.run`` transaction each."""
from __future__ import annotations

from ariadne import MutationType

from runtime.checkout import service
from runtime.graphql.context import context_of, payload

mutation = MutationType()


@mutation.field("placeOrder")
@payload
def resolve_place_order(_, info, cart_id: str, idempotency_key: str):
    ctx = context_of(info)
    if ctx.actor.employee_id is not None:
        ctx.require("orders.place")  # a guest's token or a customer's cart needs no more
    channel, base = ctx.channel, ctx.settings.base_currency
    order = service.run_placing(ctx.db, lambda session: service.place_order(session, ctx.actor, cart_id, idempotency_key,
                                                           base_currency=base, channel=channel))
    return {"order": order}


@mutation.field("adminCreateOrder")
@payload
def resolve_admin_create_order(_, info, input: dict):
    ctx = context_of(info)
    ctx.require("orders.create")
    channel, base = ctx.channel, ctx.settings.base_currency
    order = service.run_placing(ctx.db, lambda session: service.admin_create_order(session, ctx.actor, channel, input,
                                                                  base_currency=base))
    return {"order": order}


bindables = [mutation]
