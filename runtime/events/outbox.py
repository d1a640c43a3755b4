""":func:`emit`: an outbox row in the caller's transaction, published after it commits."""
from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.db import after_commit
from runtime.events.models import ID_LENGTH, OutboxEvent
from runtime.events.schemas import EventInvalid, check_payload

#: ``session.info`` key: the types emitted in this transaction, counted once it commits.
_EMITTED = "vectis.events.emitted"


def emit(session: Session, type: str, payload: dict[str, Any], *, key: str | None = None) -> OutboxEvent:
    """Add event ``type`` with ``payload`` to the outbox in ``session``'s transaction.

    The event exists iff that transaction commits; then one publisher job per transaction
    publishes it (and any row an earlier run left behind). ``key`` is the entity the event is
    about. :class:`EventInvalid` names the type and the field when the payload is refused.
    """
    check_payload(type, payload)
    if key is not None and (not isinstance(key, str) or not key or len(key) > ID_LENGTH):
        raise EventInvalid(f"{type}: key: expected an entity id of 1-{ID_LENGTH} characters, got {key!r}")
    row = OutboxEvent(id=str(uuid.uuid4()), type=type, occurred_at=utcnow(), key=key, payload=dict(payload))
    session.add(row)
    emitted = session.info.get(_EMITTED)
    if emitted is None:
        emitted = session.info[_EMITTED] = []
        _publish_after_commit(session)
    emitted.append(type)
    return row


def _publish_after_commit(session: Session) -> None:
    from runtime.events.publisher import publish_outbox, request_publish
    from runtime.jobs import EVENTS, enqueue, get_dispatcher

    app = current_app._get_current_object()
    after_commit(session, lambda: _count(app, session.info.pop(_EMITTED, [])))
    dispatcher = get_dispatcher(app)
    if dispatcher.in_process:
        enqueue(publish_outbox, queue=EVENTS, session=session)
    else:
        after_commit(session, lambda: request_publish(dispatcher))


def _count(app, emitted: list[str]) -> None:
    from runtime.events import get_metrics

    metrics = get_metrics(app)
    if metrics is not None:
        metrics.count(metrics.emitted, emitted)
