"""The publisher: hands committed outbox rows, in order, to the stream and the automations consumer.

:func:`publish_outbox` runs after every transaction that emitted, and every
:data:`RETRY_SECONDS` as a periodic job that picks up rows a lost enqueue or a Redis outage left
behind. On RQ, a transaction enqueues the publisher only when none is waiting
(:func:`request_publish`): one queued run publishes every row committed before it starts. For each row, in one transaction: ``XADD`` to ``vectis:events`` when Redis is configured,
:func:`runtime.automations.publish_event` (which stores the event once by id and queues its
consumption), and ``published_at``. A failure rolls that batch back and records ``attempts`` and
``last_error`` on the row at fault; rows after it wait, so the stream keeps emission order.
"""
from __future__ import annotations

import logging
from functools import partial
from decimal import Decimal
from collections.abc import Callable
from typing import Any

import redis
from flask import Flask, current_app
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.db import after_commit
from runtime.events import stream
from runtime.events.models import OutboxEvent
from runtime.jobs.queues import EVENTS

log = logging.getLogger(__name__)

#: Rows one transaction publishes at most.
BATCH = 200
#: Seconds between runs of the periodic retry.
RETRY_SECONDS = 30
#: Longest ``last_error`` kept.
ERROR_LENGTH = 2000
#: Payload fields copied to the top of the ``event`` fact, where automations correlate on them.
FACT_KEYS = ("account_id", "customer_id", "entity_id", "currency")


def envelope(row: OutboxEvent) -> dict[str, Any]:
    """The event as published to the stream (``schemas/events/envelope.schema.json``)."""
    return {"id": row.id, "type": row.type, "occurred_at": row.occurred_at.isoformat(), "key": row.key,
            "payload": row.payload}


def as_fact(row: OutboxEvent) -> dict[str, Any]:
    """The event as the automations consumer reads it (``schemas/facts/event.schema.json``)."""
    fact: dict[str, Any] = {"id": row.id, "type": row.type, "occurred_at": row.occurred_at.isoformat(),
                            "payload": row.payload}
    for name in FACT_KEYS:
        if isinstance(row.payload.get(name), str):
            fact[name] = row.payload[name]
    if "entity_id" not in fact and row.key is not None:
        fact["entity_id"] = row.key
    if "amount" in row.payload:  # a decimal string (the payload passed its schema); conditions compare numbers
        fact["amount"] = float(Decimal(row.payload["amount"]))
    return fact


#: Called as ``hook(session, rows)`` in the transaction that publishes ``rows`` (the webhooks
#: domain fans events out to deliveries here; events never import it).
PUBLISH_HOOKS: list[Callable[[Session, list[OutboxEvent]], Any]] = []

#: Redis key set while a publisher job waits in the queue (expires in case that job is lost).
PENDING_KEY = "vectis:events:publish_pending"


def request_publish(dispatcher) -> None:
    """After a commit that emitted: enqueue :func:`publish_outbox` unless one is already waiting.

    The waiting job clears the flag before it reads the outbox, so a row committed while the flag
    is set is read by that job, and a row committed after it cleared the flag enqueues another.
    Enqueueing an RQ job costs several Redis round trips; the flag costs one."""
    try:
        if dispatcher.connection.set(PENDING_KEY, "1", nx=True, ex=RETRY_SECONDS):
            dispatcher.enqueue(publish_outbox, queue=EVENTS)
    except redis.RedisError:  # committed already: the periodic run publishes the rows
        log.exception("outbox: requesting the publisher failed; the periodic run will publish")


def publish_outbox() -> int:
    """Job: publish every committed, unpublished row in emission order; the number published.

    Raises the failure (after recording it on the row) so the job counts as failed.
    """
    from runtime.jobs import get_dispatcher

    app = current_app._get_current_object()
    database = app.extensions["vectis.db"]
    connection = get_dispatcher(app).connection
    if connection is not None:
        connection.delete(PENDING_KEY)
    total = 0
    while True:
        current: list[tuple[int, str]] = []  # (seq, type) of the row being published
        try:
            published = database.run(lambda session: _publish_batch(session, app, current))
        except Exception as exc:
            if current:
                _record_failure(app, *current[-1], exc)
            raise
        total += published
        if published < BATCH:
            return total


def _publish_batch(session: Session, app: Flask, current: list[tuple[int, str]]) -> int:
    from runtime.automations import publish_event
    from runtime.events import get_metrics
    from runtime.jobs import get_dispatcher

    query = select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.seq).limit(BATCH)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # a concurrent publisher waits, then skips what this one published
    rows = session.exec(query).all()
    connection = get_dispatcher(app).connection
    now = utcnow()
    for row in rows:
        current.append((row.seq, row.type))  # plain values: a rollback expires the row
        if connection is not None:
            stream.add(connection, envelope(row))
        publish_event(session, as_fact(row))
        row.published_at, row.attempts = now, row.attempts + 1
        session.add(row)
    for hook in PUBLISH_HOOKS:  # webhook deliveries: created iff the events are published
        hook(session, rows)
    session.flush()
    metrics = get_metrics(app)
    if metrics is not None and rows:
        after_commit(session, partial(metrics.count, metrics.published, [row.type for row in rows]))
    return len(rows)


def _record_failure(app: Flask, seq: int, type_: str, exc: Exception) -> None:
    from runtime.events import get_metrics

    message = f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
    log.error("outbox event %s (%s): publishing failed: %s", seq, type_, message)
    metrics = get_metrics(app)
    if metrics is not None:
        metrics.count(metrics.failed, [type_])

    def record(session: Session) -> None:
        row = session.get(OutboxEvent, seq)
        if row is not None and row.published_at is None:
            row.attempts, row.last_error = row.attempts + 1, message
            session.add(row)

    app.extensions["vectis.db"].run(record)
