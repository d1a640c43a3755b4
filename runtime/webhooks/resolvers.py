"""GraphQL for webhooks: subscriptions, secret rotation and the delivery log (``webhooks.manage``)."""
from __future__ import annotations

from datetime import datetime

from ariadne import EnumType, MutationType, ObjectType, QueryType
from sqlmodel import select

from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload, query_error
from runtime.graphql.values import check_first, connection, decode_cursor
from runtime.webhooks.errors import WebhookErrorCode
from runtime.webhooks.models import STATUSES, WebhookDelivery, WebhookSubscription
from runtime.webhooks.subscriptions import get_subscription, rotate_secret, subscribe

PERMISSION = "webhooks.manage"
query = QueryType()
mutation = MutationType()
subscription_type = ObjectType("WebhookSubscription")
attempt_type = ObjectType("WebhookAttempt")
status_enum = EnumType("WebhookDeliveryStatus", {status.upper(): status for status in STATUSES})


@subscription_type.field("previousSecretExpiresAt")
def resolve_previous_expires(row: WebhookSubscription, _info):
    return row.previous_expires_at if "previous" in row.secrets else None


@attempt_type.field("at")
def resolve_attempt_at(attempt: dict, _info):
    return datetime.fromisoformat(attempt["at"])


def _mutate(info, work):
    ctx = context_of(info)
    ctx.require(PERMISSION)
    row, secret = ctx.db.run(work)
    return {"subscription": row, "secret": secret}


@mutation.field("createWebhookSubscription")
@payload
def resolve_create(_, info, input: dict):
    actor = context_of(info).actor
    return _mutate(info, lambda s: subscribe(s, actor, input["event_type"], input["url"]))


@mutation.field("rotateWebhookSecret")
@payload
def resolve_rotate(_, info, id, overlap_seconds: int = 86400):
    return _mutate(info, lambda s: rotate_secret(s, id, overlap_seconds))


@mutation.field("deactivateWebhookSubscription")
@payload
def resolve_deactivate(_, info, id):
    def work(session):
        row = get_subscription(session, id, lock=True)
        row.is_active = False
        session.add(row)
        return row, None

    return _mutate(info, work)


@query.field("webhookSubscriptions")
def resolve_subscriptions(_, info):
    ctx = context_of(info)
    ctx.require(PERMISSION)
    with ctx.reads() as session:
        return session.exec(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()


@query.field("webhookDeliveries")
def resolve_deliveries(_, info, filter: dict | None = None, first: int = 20, after: str | None = None):
    ctx = context_of(info)
    ctx.require(PERMISSION)
    given = filter or {}
    try:
        check_first(first, WebhookErrorCode.INVALID_INPUT)
        key = decode_cursor(after, WebhookErrorCode.INVALID_INPUT) if after else None
        if key is not None and (len(key) != 1 or not isinstance(key[0], int)):
            raise BusinessError(WebhookErrorCode.INVALID_INPUT, "after: not a cursor this API returned", field="after")
        statement = select(WebhookDelivery)
        if given.get("subscription_id") is not None:
            statement = statement.where(WebhookDelivery.subscription_id == _int(given["subscription_id"]))
        if given.get("status") is not None:
            statement = statement.where(WebhookDelivery.status == given["status"])
        if given.get("event_type") is not None:
            statement = statement.where(WebhookDelivery.event_type == given["event_type"])
        if key is not None:
            statement = statement.where(WebhookDelivery.id < key[0])
        with ctx.reads() as session:
            rows = session.exec(statement.order_by(WebhookDelivery.id.desc()).limit(first + 1)).all()
    except BusinessError as exc:
        raise query_error(info, exc) from None
    return connection(rows, first, lambda row: [row.id], after=after is not None)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BusinessError(WebhookErrorCode.INVALID_INPUT, f"filter.subscriptionId: expected a numeric id, got {value!r}",
                            field="filter.subscriptionId") from None


bindables = [query, mutation, subscription_type, attempt_type, status_enum]
