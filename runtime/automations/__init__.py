"""Automations in the runtime: the event stream's entry point and the consumer. See ``docs/automations.md``.

The public API::

    publish_event(session, {"id": ..., "type": ..., "occurred_at": ..., "account_id": ...})
    consume_event(event_id)          # the EVENTS-queue job publish_event queues after commit
"""
from __future__ import annotations

from flask import Flask
from prometheus_client import Counter

from runtime.automations.consumer import Consumer, consume_event, consume_pending_events, get_consumer
from runtime.automations.events import EventRejected, publish_event

__all__ = ["Consumer", "EventRejected", "consume_event", "consume_pending_events", "get_consumer",
           "init_app", "publish_event"]

#: Seconds between runs of the sweep that consumes events whose job was lost or failed.
PENDING_SWEEP_SECONDS = 60


def init_app(app: Flask) -> Consumer:
    """Keep a :class:`Consumer` in ``app.extensions``, add its metrics, register the pending sweep.

    Call after ``observability.init_app`` (the metrics registry) and ``packs.init_app``.
    """
    from runtime.jobs import EVENTS, register_periodic_job
    from runtime.observability import get_metrics

    consumer = Consumer(app)
    app.extensions["vectis.automations"] = consumer
    metrics = get_metrics(app)
    if metrics is not None:
        consumer.firings = Counter("vectis_automation_firings", "Automation firings by automation",
                                   ["automation"], registry=metrics.registry)
        consumer.errors = Counter("vectis_automation_errors", "Automation failures by automation and reason",
                                  ["automation", "reason"], registry=metrics.registry)
    register_periodic_job(app.extensions["vectis.registry"], "automation_pending_events", consume_pending_events,
                          interval=PENDING_SWEEP_SECONDS, queue=EVENTS,
                          description="Consume again events whose automation job was lost or failed")
    return consumer
