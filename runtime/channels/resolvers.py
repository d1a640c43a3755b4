"""GraphQL resolvers: public reads of active channels, admin mutations under ``channels.manage``."""
from __future__ import annotations

from datetime import datetime

from ariadne import MutationType, ObjectType, QueryType

from runtime.channels import rates, service
from runtime.channels.errors import ChannelErrorCode
from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import aware_time

query = QueryType()
mutation = MutationType()
rate_type = ObjectType("ExchangeRate")

MANAGE = "channels.manage"


def parse_time(value: str | None, field: str) -> datetime | None:
    """An ISO-8601 time with a zone, or ``INVALID_DATE`` naming ``field``."""
    try:
        return aware_time(value)
    except ValueError:
        raise BusinessError(ChannelErrorCode.INVALID_DATE,
                            f"{field}: expected an ISO-8601 time with a zone, like 2026-01-15T12:00:00Z, got {value!r}",
                            field=field) from None


@query.field("channels")
def resolve_channels(_, info, include_inactive: bool = False):
    ctx = context_of(info)
    if include_inactive:
        ctx.require(MANAGE)
    with ctx.reads() as session:
        return service.list_channels(session, include_inactive=include_inactive)


@query.field("channel")
def resolve_channel(_, info, slug: str):
    ctx = context_of(info)
    with ctx.reads() as session:
        try:
            return service.get_channel(session, slug, active_only=not ctx.actor.has(MANAGE))
        except BusinessError:
            return None


@query.field("currentChannel")
def resolve_current_channel(_, info):
    return info.context.channel


@query.field("exchangeRate")
def resolve_exchange_rate(_, info, base: str, quote: str, at: str | None = None):
    try:
        when = parse_time(at, "at")
    except BusinessError as exc:
        raise query_error(info, exc) from None
    with context_of(info).reads() as session:
        return rates.rate_at(session, base, quote, when)


@rate_type.field("rate")
def resolve_rate(row, _info):
    return format(row.rate, "f")


@mutation.field("createChannel")
@payload
def resolve_create(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"channel": ctx.db.run(lambda session: service.create_channel(session, **input))}


@mutation.field("updateChannel")
@payload
def resolve_update(_, info, slug: str, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    return {"channel": ctx.db.run(lambda session: service.update_channel(session, slug, **input))}


@mutation.field("setExchangeRate")
@payload
def resolve_set_rate(_, info, input: dict):
    ctx = context_of(info)
    ctx.require(MANAGE)
    valid_from = parse_time(input.get("valid_from"), "validFrom")
    row = ctx.db.run(lambda session: rates.set_rate(session, input["base"], input["quote"], input["rate"], valid_from))
    return {"exchange_rate": row}


bindables = [query, mutation, rate_type]
