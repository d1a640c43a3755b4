"""The Redis stream ``vectis:events``: where published events go when Redis is configured.

Delivery is at least once: a publisher whose transaction fails after ``XADD`` adds the event
again on its retry, so a stream reader keeps the ids it has seen (as the automations consumer does).
"""
from __future__ import annotations

import json
from typing import Any

import redis

#: The stream key.
STREAM = "vectis:events"
#: Entries kept, approximately (``MAXLEN ~``): readers that fall further behind read the outbox.
STREAM_MAXLEN = 100_000


def add(connection: redis.Redis, event: dict[str, Any]) -> str:
    """``XADD`` one published event (:func:`runtime.events.publisher.envelope`); the entry id."""
    fields = {"id": event["id"], "type": event["type"], "event": json.dumps(event, separators=(",", ":"))}
    entry = connection.xadd(STREAM, fields, maxlen=STREAM_MAXLEN, approximate=True)
    return entry.decode() if isinstance(entry, bytes) else entry


def read(connection: redis.Redis, start: str = "-", end: str = "+", count: int | None = None) -> list[dict[str, Any]]:
    """The events of the stream between two entry ids (``XRANGE``), oldest first."""
    return [json.loads(fields[b"event"]) for _entry, fields in connection.xrange(STREAM, start, end, count=count)]
