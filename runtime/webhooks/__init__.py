"""Outgoing webhooks: subscriptions per event type, deliveries signed per the Standard Webhooks
specification, sent by jobs with retries and a dead-letter state. See ``docs/security.md``.

:func:`init_app` hooks the fan-out into the outbox publisher and registers the periodic retry.
"""
from __future__ import annotations

from flask import Flask

from runtime.events.publisher import PUBLISH_HOOKS
from runtime.jobs import EVENTS, register_periodic_job
from runtime.webhooks.delivery import RETRY_SWEEP_SECONDS, fan_out, retry_due_deliveries


def init_app(app: Flask) -> None:
    if fan_out not in PUBLISH_HOOKS:
        PUBLISH_HOOKS.append(fan_out)
    register_periodic_job(app.extensions["vectis.registry"], "webhook_retries", retry_due_deliveries,
                          interval=RETRY_SWEEP_SECONDS, queue=EVENTS,
                          description="Send webhook deliveries whose back-off has elapsed")
