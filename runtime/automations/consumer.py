"""The automation consumer: one job per stored event, run for every live automation.

For each automation, in its own transaction: read the event's correlation value's in-window
events not yet taken by a firing of that automation, replay them into durable_rules
(:func:`rules.automation_engine.completed_by`), and for each match that includes the event insert
the firing (unique by automation and event ids), the events it takes, and queue its effects —
all in that one transaction. A concurrent consumer that reaches the same match hits the unique
key; :meth:`runtime.db.Database.run` retries, sees the match taken, and does nothing.

durable_rules' failures are logged and counted, never raised: one broken automation must not
stop the others, nor the queue.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from rules.automation import Automation
from rules.automation_engine import AutomationRunError, Matcher, Occurrence, completed_by, correlation
from rules.facts import MISSING
from sqlalchemy import exists
from sqlmodel import Session, select

from runtime.automations.events import KEY_COLUMNS
from runtime.automations.models import AutomationEvent, AutomationFiring, AutomationMatch
from runtime.clock import utcnow
from runtime.definitions.live import LiveDefinition, live_definitions
from runtime.state_machines.effects import EffectCall, run_effects

log = logging.getLogger(__name__)

#: The actor effects of an automation see.
ACTOR_PREFIX = "automation:"
#: Unprocessed events older than this are consumed again by :func:`consume_pending_events`.
PENDING_GRACE = timedelta(minutes=1)
#: Events one sweep run consumes at most.
PENDING_BATCH = 500


class Consumer:
    """Kept in ``app.extensions["vectis.automations"]``: the matcher and the metrics."""

    def __init__(self, app: Flask):
        self.app = app
        self.matcher = Matcher()
        self.firings = self.errors = None

    def count_firing(self, automation: str) -> None:
        if self.firings is not None:
            self.firings.labels(automation).inc()

    def count_error(self, automation: str, reason: str) -> None:
        if self.errors is not None:
            self.errors.labels(automation, reason).inc()


def get_consumer(app: Flask | None = None) -> Consumer:
    app = app or current_app
    try:
        return app.extensions["vectis.automations"]
    except KeyError:
        raise RuntimeError("runtime.automations.init_app(app) has not been called for this app") from None


def consume_event(event_id: str) -> int:
    """Job: run every live automation on the stored event ``event_id``; the number of firings."""
    app = current_app._get_current_object()
    consumer, database = get_consumer(app), app.extensions["vectis.db"]
    fired, retry = 0, False
    for live in live_definitions(app).all("automation"):
        try:
            fired += database.run(lambda session, live=live: _consume(session, consumer, live, event_id))
        except AutomationRunError as exc:
            # durable_rules gives the same answer on a retry: count it, and move on.
            log.error("automation %s on event %s: %s", live.name, event_id, exc)
            consumer.count_error(live.name, "durable_rules")
        except Exception:
            log.exception("automation %s on event %s failed; the pending sweep retries it", live.name, event_id)
            consumer.count_error(live.name, "error")
            retry = True
    if not retry:
        database.run(lambda session: _mark_processed(session, event_id))
    return fired


def consume_pending_events() -> int:
    """Periodic job: consume again the events whose consumption was lost or failed."""
    app = current_app._get_current_object()
    before = utcnow() - PENDING_GRACE
    with app.extensions["vectis.db"].session() as session:
        ids = session.exec(
            select(AutomationEvent.event_id)
            .where(AutomationEvent.processed_at.is_(None), AutomationEvent.received_at <= before)
            .order_by(AutomationEvent.seq).limit(PENDING_BATCH)
        ).all()
    for event_id in ids:
        consume_event(event_id)
    return len(ids)


def _mark_processed(session: Session, event_id: str) -> None:
    row = session.exec(select(AutomationEvent).where(AutomationEvent.event_id == event_id)).first()
    if row is not None and row.processed_at is None:
        row.processed_at = utcnow()
        session.add(row)


def _consume(session: Session, consumer: Consumer, live: LiveDefinition, event_id: str) -> int:
    automation: Automation = live.compiled
    row = session.exec(select(AutomationEvent).where(AutomationEvent.event_id == event_id)).first()
    if row is None or not automation.may_match(row.type) or _taken(session, automation.name, event_id):
        return 0
    key = correlation(automation, row.data)
    if key is MISSING:
        return 0
    event = Occurrence(row.event_id, row.occurred_at, row.data)
    history = [Occurrence(r.event_id, r.occurred_at, r.data) for r in _history(session, automation, row, key)]
    matches = completed_by(consumer.matcher, automation, history, event)
    for ids in matches:
        _fire(session, live, sorted(ids), key)
        consumer.count_firing(automation.name)
    return len(matches)


def _taken(session: Session, automation: str, event_id: str) -> bool:
    return session.get(AutomationMatch, (automation, event_id)) is not None


def _history(session: Session, automation: Automation, row: AutomationEvent, key: Any) -> list[AutomationEvent]:
    """The correlation value's events up to ``row``, in the window, not taken by this automation."""
    query = select(AutomationEvent).where(
        AutomationEvent.occurred_at <= row.occurred_at,
        ~exists().where(AutomationMatch.automation == automation.name,
                        AutomationMatch.event_id == AutomationEvent.event_id),
    )
    if automation.within is not None:
        query = query.where(AutomationEvent.occurred_at >= row.occurred_at - automation.within)
    if automation.event_types is not None:
        query = query.where(AutomationEvent.type.in_(sorted(automation.event_types)))
    if automation.correlate_by in KEY_COLUMNS:
        query = query.where(getattr(AutomationEvent, automation.correlate_by) == key)
    rows = session.exec(query.order_by(AutomationEvent.occurred_at, AutomationEvent.seq)).all()
    return [r for r in rows if correlation(automation, r.data) == key]


def match_key(event_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(event_ids)).encode("utf-8")).hexdigest()


def _fire(session: Session, live: LiveDefinition, event_ids: list[str], key: Any) -> None:
    automation: Automation = live.compiled
    correlated = automation.correlate_by is not None
    firing = AutomationFiring(
        automation=automation.name, revision=live.revision, match_key=match_key(event_ids),
        event_ids=event_ids, correlation=str(key) if correlated else None, actions=list(automation.actions),
    )
    session.add(firing)
    session.flush()  # a match already recorded fails here, and Database.run retries the whole work
    for event_id in event_ids:
        session.add(AutomationMatch(automation=automation.name, event_id=event_id, firing_id=firing.id))
    session.flush()
    call = EffectCall(
        machine=automation.name,
        entity_type=automation.correlate_by or "event",
        entity_ids=(str(key),) if correlated else tuple(event_ids),
        transition="fire", from_state="", to_state="",
        actor=ACTOR_PREFIX + automation.name, revision=live.revision,
        context={"automation": automation.name, "firing_id": firing.id, "event_ids": event_ids,
                 "correlate_by": automation.correlate_by, "correlation": key if correlated else None},
    )
    run_effects(session, current_app.extensions["vectis.registry"], automation.actions, call)
