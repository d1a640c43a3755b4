"""The event stream's entry point: :func:`publish_event` stores an event and queues its consumption.

The outbox (commerce issue) will call it in the transaction that made the change; until then
tests call it. An event is the ``event`` fact (``schemas/facts/event.schema.json``): ``id``,
``type`` and ``occurred_at`` are required.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from flask import current_app
from jsonschema import Draft202012Validator
from rules.facts import FACTS_PATH
from sqlmodel import Session, select

from runtime.automations.models import ID_LENGTH, AutomationEvent
from runtime.clock import utcnow
from runtime.definitions.live import live_definitions
from runtime.errors import VectisError

#: Columns filled from the event's field of the same name (the usual correlation keys).
KEY_COLUMNS = ("account_id", "customer_id", "entity_id")


class EventRejected(VectisError):
    """An event that is not an ``event`` fact; the message starts with the field at fault."""


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads((FACTS_PATH / "event.schema.json").read_text("utf-8")))


def normalise(event: dict[str, Any]) -> tuple[dict[str, Any], datetime]:
    """The event as stored (``occurred_at`` an ISO string) and its time; :class:`EventRejected` if invalid."""
    if not isinstance(event, dict):
        raise EventRejected(f"event: expected a mapping, got {type(event).__name__}")
    data = dict(event)
    for key in ("id", "type", "occurred_at"):
        if key not in data:
            raise EventRejected(f"{key}: an event needs an {key}" if key == "id" else f"{key}: an event needs a {key}")
    when = data["occurred_at"]
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise EventRejected(f"occurred_at: {data['occurred_at']!r} is not an ISO 8601 time") from None
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise EventRejected("occurred_at: expected a timezone-aware time")
    when = when.astimezone(timezone.utc)
    data["occurred_at"] = when.isoformat()
    problems = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "event"
        raise EventRejected(f"{where}: {problems[0].message}")
    for key in ("id", "type", *KEY_COLUMNS):
        if isinstance(data.get(key), str) and len(data[key]) > ID_LENGTH:
            raise EventRejected(f"{key}: longer than {ID_LENGTH} characters")
    return data, when


def publish_event(session: Session, event: dict[str, Any]) -> bool:
    """Store ``event`` and consume it after ``session`` commits; False when its id was seen before.

    Publishing the same event again (the outbox delivers at least once) stores and queues nothing.
    """
    from runtime.automations.consumer import consume_event
    from runtime.jobs import EVENTS, enqueue

    data, when = normalise(event)
    if session.exec(select(AutomationEvent.seq).where(AutomationEvent.event_id == data["id"])).first():
        return False
    # Stored either way (a later automation's window replays it); consumed only if a live
    # automation may match its type, so a stream no automation listens to costs one insert.
    wanted = any(live.compiled.may_match(data["type"])
                 for live in live_definitions(current_app).all("automation"))
    session.add(AutomationEvent(event_id=data["id"], type=data["type"], occurred_at=when, data=data,
                                processed_at=None if wanted else utcnow(),
                                **{key: data.get(key) for key in KEY_COLUMNS}))
    session.flush()
    if wanted:
        enqueue(consume_event, data["id"], queue=EVENTS, session=session)
    return True
