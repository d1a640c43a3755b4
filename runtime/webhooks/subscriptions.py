"""Subscribing, rotating a subscription's secret, the secrets that sign now, the body sent."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.events.models import OutboxEvent
from runtime.events.schemas import event_types
from runtime.webhooks.errors import WebhookErrorCode
from runtime.webhooks.models import WebhookSubscription
from runtime.webhooks.signing import generate_secret
from runtime.webhooks.urls import check_url

#: Longest overlap a rotation may ask for (the previous secret signs until it ends).
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
DEFAULT_OVERLAP_SECONDS = 24 * 3600


def allow_private() -> bool:
    return current_app.config["VECTIS"].webhooks_allow_private_networks


def _box():
    return current_app.extensions["vectis.secrets"]


def subscribe(session: Session, actor: Actor, event_type: str, url: str) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (``whsec_…``, shown once; stored sealed)."""
    errors: list[BusinessError] = []
    if event_type not in event_types():
        errors.append(BusinessError(WebhookErrorCode.UNKNOWN_EVENT_TYPE,
                                    f"input.eventType: no event schema declares {event_type!r}", field="input.eventType"))
    try:
        url = check_url(url, allow_private=allow_private())
    except BusinessError as exc:
        errors.append(exc)
    if errors:
        raise BusinessErrors(errors)
    secret = generate_secret()
    row = WebhookSubscription(event_type=event_type, url=url, secrets={"current": _box().seal(secret)},
                              created_by=actor.label)
    session.add(row)
    session.flush()
    return row, secret


def get_subscription(session: Session, subscription_id, *, lock: bool = False) -> WebhookSubscription:
    try:
        key = int(subscription_id)
    except (TypeError, ValueError):
        key = None
    row = session.get(WebhookSubscription, key, with_for_update=lock) if key is not None else None
    if row is None:
        raise BusinessError(WebhookErrorCode.NOT_FOUND, f"id: no webhook subscription {subscription_id!r}", field="id")
    return row


def rotate_secret(session: Session, subscription_id, overlap_seconds: int) -> tuple[WebhookSubscription, str]:
    """A new current secret; the old one keeps signing (both signatures sent) for ``overlap_seconds``."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise BusinessError(WebhookErrorCode.INVALID_INPUT,
                            f"overlapSeconds: expected 0 to {MAX_OVERLAP_SECONDS}, got {overlap_seconds}",
                            field="overlapSeconds")
    row = get_subscription(session, subscription_id, lock=True)
    secret = generate_secret()
    row.secrets = {"current": _box().seal(secret), "previous": row.secrets["current"]}
    row.previous_expires_at = utcnow() + timedelta(seconds=overlap_seconds)
    session.add(row)
    session.flush()
    return row, secret


def signing_secrets(row: WebhookSubscription) -> list[str]:
    """The secrets that sign now: the current one, and the previous one inside its overlap window."""
    box = _box()
    found = [box.open(row.secrets["current"], f"webhook_subscription {row.id} secrets.current")]
    if "previous" in row.secrets and row.previous_expires_at is not None and utcnow() < row.previous_expires_at:
        found.append(box.open(row.secrets["previous"], f"webhook_subscription {row.id} secrets.previous"))
    return found


def body_of(event: OutboxEvent) -> str:
    """The JSON sent for an event: the stream's envelope (``schemas/events/envelope.schema.json``)."""
    return json.dumps({"id": event.id, "type": event.type, "occurred_at": event.occurred_at.isoformat(),
                       "key": event.key, "payload": event.payload}, separators=(",", ":"), sort_keys=True)
