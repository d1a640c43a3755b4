"""``automation``: the stored events of the last N days replayed against the draft, the way the
consumer would have seen them (in order, per correlation value, each event taken by one match),
→ the matches it would have made. Bounded: at most ``MAX_EVENTS`` events are replayed."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from rules.automation import Automation
from rules.automation_engine import AutomationRunError, Occurrence, completed_by, correlation
from rules.facts import MISSING
from sqlmodel import select

from runtime.automations.consumer import get_consumer
from runtime.automations.models import AutomationEvent
from runtime.clock import utcnow

MAX_EVENTS = 2000
DEFAULT_DAYS, MAX_DAYS = 30, 90


def days_of(form) -> int:
    raw = str(form.get("replay_days", "") or DEFAULT_DAYS)
    return min(max(int(raw), 1), MAX_DAYS) if raw.isdigit() else DEFAULT_DAYS


def preview(app, session, draft: Automation, live: Automation | None, form) -> dict[str, Any]:
    days = days_of(form)
    since = utcnow() - timedelta(days=days)
    query = select(AutomationEvent).where(AutomationEvent.occurred_at >= since)
    if draft.event_types is not None:
        query = query.where(AutomationEvent.type.in_(sorted(draft.event_types)))
    rows = session.exec(query.order_by(AutomationEvent.occurred_at, AutomationEvent.seq).limit(MAX_EVENTS + 1)).all()
    truncated = len(rows) > MAX_EVENTS
    matcher = get_consumer(app).matcher
    history: dict[Any, list[Occurrence]] = defaultdict(list)
    matches, error = [], None
    for row in rows[:MAX_EVENTS]:
        key = correlation(draft, row.data)
        if key is MISSING:
            continue
        event = Occurrence(row.event_id, row.occurred_at, row.data)
        try:
            found = completed_by(matcher, draft, history[key], event)
        except AutomationRunError as exc:
            error = str(exc)
            break
        history[key].append(event)
        for ids in found:
            matches.append({"correlation": None if draft.correlate_by is None else str(key),
                            "event_ids": sorted(ids), "at": row.occurred_at})
            history[key] = [e for e in history[key] if e.id not in ids]  # a matched event is taken
    return {"days": days, "events": min(len(rows), MAX_EVENTS), "truncated": truncated,
            "matches": matches, "error": error, "actions": list(draft.actions)}
