"""Sending deliveries: :func:`fan_out` (in the publisher's transaction), :func:`deliver_webhook`
(one attempt, a job on the ``events`` queue) and :func:`retry_due_deliveries` (periodic).

An attempt first claims the delivery (moves ``next_attempt_at`` past a lease, so a concurrent
job or sweep leaves it alone), sends without holding a transaction, then records the answer:
a 2xx succeeds; anything else (status, time-out, refused address) backs off exponentially, and
after :data:`MAX_ATTEMPTS` the delivery is ``dead`` (the dead-letter state; nothing retries it).
Every attempt sends the same ``webhook-id`` and body, so receivers can drop duplicates.
"""
from __future__ import annotations

import functools
import logging
from datetime import timedelta

import httpx
from flask import current_app
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.events.models import OutboxEvent
from runtime.jobs import EVENTS, enqueue
from runtime.webhooks.models import WebhookDelivery, WebhookSubscription
from runtime.webhooks.signing import signature_header
from runtime.webhooks.subscriptions import allow_private, body_of, signing_secrets
from runtime.webhooks.urls import check_url

log = logging.getLogger(__name__)

#: Attempts before a delivery is dead.
MAX_ATTEMPTS = 8
#: Back-off after the first failure; doubled after each further one, up to :data:`MAX_BACKOFF`.
BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=6)
#: How long a claimed attempt keeps others off (longer than the request time-out).
LEASE = timedelta(seconds=60)
#: Connect and total time-outs of one attempt.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRY_SWEEP_SECONDS = 15
#: Deliveries one sweep run picks up.
SWEEP_BATCH = 200
ERROR_LENGTH = 500


def fan_out(session: Session, events: list[OutboxEvent]) -> int:
    """Called by the outbox publisher in its transaction: one delivery per active subscription of
    each event's type, each sent by a job once that transaction commits. The number created."""
    types = {event.type for event in events}
    if not types:
        return 0
    subscriptions = session.exec(select(WebhookSubscription).where(
        WebhookSubscription.event_type.in_(types), WebhookSubscription.is_active.is_(True))).all()
    if not subscriptions:
        return 0
    now = utcnow()
    created = [WebhookDelivery(subscription_id=s.id, event_id=e.id, event_type=e.type, body=body_of(e),
                               next_attempt_at=now)
               for e in events for s in subscriptions if s.event_type == e.type]
    session.add_all(created)
    session.flush()
    for delivery in created:
        enqueue(deliver_webhook, delivery.id, queue=EVENTS, job_id=f"webhook-{delivery.id}-1", session=session)
    return len(created)


def deliver_webhook(delivery_id: int) -> str | None:
    """Job: one attempt at ``delivery_id`` if it is due; its status afterwards (None if not due)."""
    database = current_app.extensions["vectis.db"]
    claimed = database.run(lambda session: _claim(session, delivery_id))
    if claimed is None:
        return None
    url, body, event_id, secrets = claimed
    status_code, error = _send(url, body, event_id, secrets)
    return database.run(lambda session: _record(session, delivery_id, status_code, error))


def _claim(session: Session, delivery_id: int):
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    now = utcnow()
    if (delivery is None or delivery.status in ("succeeded", "dead")
            or (delivery.next_attempt_at is not None and delivery.next_attempt_at > now)):
        return None
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if not subscription.is_active:  # deactivated meanwhile: stop, keeping the delivery in the log
        delivery.status, delivery.next_attempt_at, delivery.last_error = "dead", None, "subscription deactivated"
        session.add(delivery)
        return None
    delivery.next_attempt_at = now + LEASE
    session.add(delivery)
    return subscription.url, delivery.body, delivery.event_id, signing_secrets(subscription)


def _send(url: str, body: str, event_id: str, secrets: list[str]) -> tuple[int | None, str | None]:
    try:
        check_url(url, allow_private=allow_private(), field="url")
    except BusinessError as exc:
        return None, exc.message
    timestamp = int(utcnow().timestamp())
    content = body.encode()
    headers = {"webhook-id": event_id, "webhook-timestamp": str(timestamp),
               "webhook-signature": signature_header(secrets, event_id, timestamp, content),
               "content-type": "application/json", "user-agent": "Vectis-Webhooks"}
    try:
        # No redirects: a 3xx could point the signed body at a disallowed address.
        response = _client().post(url, content=content, headers=headers, timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    return response.status_code, None if response.is_success else f"HTTP {response.status_code}"


@functools.cache
def _client() -> httpx.Client:
    """One pooled client per process: building one (its TLS context) costs more than a send."""
    return httpx.Client(follow_redirects=False)


def _record(session: Session, delivery_id: int, status_code: int | None, error: str | None) -> str:
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    now = utcnow()
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = status_code, error
    delivery.log = [*delivery.log, {"at": now.isoformat(), "status_code": status_code, "error": error}]
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = "dead", None
        log.warning("webhook delivery %s dead after %d attempts: %s", delivery_id, delivery.attempts, error)
    else:
        delivery.status = "retrying"
        delivery.next_attempt_at = now + min(BACKOFF * 2 ** (delivery.attempts - 1), MAX_BACKOFF)
    session.add(delivery)
    return delivery.status


def retry_due_deliveries() -> int:
    """Periodic job: enqueue an attempt for every delivery whose back-off (or lease) has elapsed."""
    database = current_app.extensions["vectis.db"]

    def due(session: Session) -> list[tuple[int, int]]:
        query = (select(WebhookDelivery.id, WebhookDelivery.attempts)
                 .where(WebhookDelivery.status.in_(("pending", "retrying")), WebhookDelivery.next_attempt_at <= utcnow())
                 .order_by(WebhookDelivery.next_attempt_at).limit(SWEEP_BATCH))
        return list(session.exec(query).all())

    rows = database.run(due)
    for delivery_id, attempts in rows:
        enqueue(deliver_webhook, delivery_id, queue=EVENTS, job_id=f"webhook-{delivery_id}-{attempts + 1}")
    return len(rows)
