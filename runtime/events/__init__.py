"""Domain events: the outbox, its publisher and the stream. See ``docs/events.md``.

The public API::

    emit(session, "order.created", {...}, key=order_id)   # in the transaction of the change
    publish_outbox()                                       # the EVENTS-queue job emit queues
"""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from prometheus_client import Counter

from runtime.events.models import OutboxEvent
from runtime.events.outbox import emit
from runtime.events.publisher import RETRY_SECONDS, publish_outbox
from runtime.events.schemas import EventInvalid, event_types

__all__ = ["EventInvalid", "EventMetrics", "OutboxEvent", "emit", "event_types", "get_metrics", "init_app",
           "publish_outbox"]


class EventMetrics:
    """Events emitted (counted at commit), published, and failed publishing attempts, by type."""

    def __init__(self, registry):
        self.emitted = Counter("vectis_events_emitted", "Outbox events committed, by type", ["type"],
                               registry=registry)
        self.published = Counter("vectis_events_published", "Outbox events published, by type", ["type"],
                                 registry=registry)
        self.failed = Counter("vectis_events_failed", "Failed attempts to publish an outbox event, by type",
                              ["type"], registry=registry)

    @staticmethod
    def count(counter: Counter, types: Iterable[str]) -> None:
        for type_ in types:
            counter.labels(type_).inc()


def get_metrics(app: Flask | None = None) -> EventMetrics | None:
    return (app or current_app).extensions.get("vectis.events")


def init_app(app: Flask) -> None:
    """Add the metrics and register the periodic retry of unpublished rows.

    Call after ``observability.init_app`` (the metrics registry) and ``automations.init_app``.
    """
    from runtime.jobs import EVENTS, register_periodic_job
    from runtime.observability import get_metrics as observability_metrics

    metrics = observability_metrics(app)
    if metrics is not None:
        app.extensions["vectis.events"] = EventMetrics(metrics.registry)
    register_periodic_job(app.extensions["vectis.registry"], "events_publish_outbox", publish_outbox,
                          interval=RETRY_SECONDS, queue=EVENTS,
                          description="Publish outbox events a lost enqueue or a Redis outage left behind")
