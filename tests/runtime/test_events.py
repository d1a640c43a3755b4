"""The events outbox: emit in the caller's transaction, publish after commit, retry, re-publish."""
from __future__ import annotations

import pytest
import redis
from sqlmodel import select

from runtime.automations.models import AutomationEvent
from runtime.events import EventInvalid, OutboxEvent, emit, event_types, publish_outbox, stream
from runtime.events.publisher import envelope
from runtime.events.schemas import check_envelope
from runtime.jobs import get_dispatcher, periodic_jobs
from tests.runtime.test_automations import CALLS, PAUSE, drain, publish_definition, register_effect

ORDER = {"order_id": "o1", "account_id": "a1", "channel_id": "web", "status": "placed", "total": "120.50",
         "currency": "EUR"}


def refunded(payment: str, account: str = "a1") -> dict:
    return {"payment_id": payment, "account_id": account, "gateway": "mock", "amount": "10.00", "currency": "EUR"}


def run(app, work):
    """``work(session)`` in one transaction inside the app, then the queued jobs, as a request does."""
    with app.app_context():
        result = app.extensions["vectis.db"].run(work)
    drain(app)
    return result


def outbox(app) -> list[OutboxEvent]:
    with app.extensions["vectis.db"].session() as s:
        return list(s.exec(select(OutboxEvent).order_by(OutboxEvent.seq)))


def stored_event_ids(app) -> list[str]:
    with app.extensions["vectis.db"].session() as s:
        return list(s.exec(select(AutomationEvent.event_id).order_by(AutomationEvent.seq)))


def sample(app, name: str, type_: str) -> float:
    registry = app.extensions["vectis.metrics"].registry
    return registry.get_sample_value(f"{name}_total", {"type": type_}) or 0.0


def test_every_event_type_has_a_schema():
    assert event_types() == ["approval.step", "cart.created", "cart.updated", "order.created", "order.modified",
                             "order.status_changed",
                             "payment.authorized", "payment.captured", "payment.failed", "payment.refunded",
                             "promotion.applied", "state_machine.transitioned", "workflow.fault"]


MINIMAL = {
    "approval.step": {"request_id": "7", "subject_type": "cart", "subject_id": "c1", "step": "submitted"},
    "cart.created": {"cart_id": "c1", "channel_id": "web", "currency": "EUR"},
    "cart.updated": {"cart_id": "c1", "change": "line_added", "subtotal": "3.00", "lines": 1},
    "order.created": ORDER,
    "order.modified": {"order_id": "o1", "channel_id": "1", "version": 2, "total": "31.90", "previous_total": "22.90",
                       "currency": "EUR", "lines": 1},
    "order.status_changed": {"order_id": "o1", "from_status": "placed", "to_status": "paid", "transition": "pay"},
    "payment.authorized": refunded("p1"),
    "payment.captured": refunded("p1"),
    "payment.failed": {**refunded("p1"), "operation": "authorize", "reason": "card declined"},
    "payment.refunded": refunded("p1"),
    "promotion.applied": {"order_id": "o1", "channel_id": "1", "currency": "EUR", "discount_total": "1.80",
                          "promotions": [{"name": "mug_week", "revision": 1, "phase": "line", "amount": "1.80"}]},
    # what runtime.state_machines.service.fire() emits
    "state_machine.transitioned": {"machine": "order", "entity_type": "order", "entity_id": "42", "transition": "pay",
                                   "from_state": "placed", "to_state": "paid", "actor": "user:ann@example.test",
                                   "revision": 1},
    "workflow.fault": {"subject_type": "cart", "subject_id": "c1", "phase": "payment", "code": "APPROVAL_PRICE_DRIFT",
                       "reason": "the grand total moved"},
}


def test_each_type_accepts_its_payload_and_is_published(app):
    assert sorted(MINIMAL) == event_types()
    run(app, lambda s: [emit(s, type_, payload, key="k1") for type_, payload in MINIMAL.items()])

    assert [(r.type, r.payload) for r in outbox(app)] == list(MINIMAL.items())
    assert stored_event_ids(app) == [r.id for r in outbox(app)]


def test_emitted_events_are_published_in_order_to_the_consumer(app):
    def place(session):
        emit(session, "order.created", ORDER, key="o1")
        emit(session, "order.status_changed",
             {"order_id": "o1", "from_status": "placed", "to_status": "paid", "transition": "pay"}, key="o1")

    run(app, place)
    run(app, lambda s: emit(s, "payment.captured", refunded("p1"), key="p1"))

    rows = outbox(app)
    assert [r.type for r in rows] == ["order.created", "order.status_changed", "payment.captured"]
    assert all(r.published_at is not None and r.attempts == 1 and r.last_error is None for r in rows)
    assert stored_event_ids(app) == [r.id for r in rows]
    with app.extensions["vectis.db"].session() as s:
        fact = s.exec(select(AutomationEvent).where(AutomationEvent.event_id == rows[0].id)).one()
    assert (fact.account_id, fact.entity_id, fact.data["amount"] if "amount" in fact.data else None) == ("a1", "o1", None)
    assert fact.data["payload"] == ORDER
    assert sample(app, "vectis_events_emitted", "order.created") == 1
    assert sample(app, "vectis_events_published", "payment.captured") == 1


def test_on_redis_events_go_to_the_stream_and_in_process_without(app):
    run(app, lambda s: [emit(s, "cart.created", {"cart_id": f"c{i}", "channel_id": "web", "currency": "EUR"},
                             key=f"c{i}") for i in range(3)])

    rows = outbox(app)
    connection = get_dispatcher(app).connection
    if connection is None:  # the embedded default: handed to the consumer in this process
        assert stored_event_ids(app) == [r.id for r in rows]
        return
    published = stream.read(connection)
    assert published == [envelope(r) for r in rows]
    for event in published:
        check_envelope(event)
    assert [e["payload"]["cart_id"] for e in published] == ["c0", "c1", "c2"]


def test_an_event_exists_only_if_the_change_committed(app):
    def fail_after_emit(session):
        emit(session, "order.created", ORDER, key="o1")
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        run(app, fail_after_emit)

    assert outbox(app) == []
    assert stored_event_ids(app) == []
    assert sample(app, "vectis_events_emitted", "order.created") == 0
    connection = get_dispatcher(app).connection
    if connection is not None:
        assert stream.read(connection) == []


@pytest.mark.parametrize("type_, payload, message", [
    ("order.creatd", ORDER, "type: unknown event type 'order.creatd' (did you mean 'order.created'?)"),
    ("order.created", {k: v for k, v in ORDER.items() if k != "total"},
     "order.created: payload: 'total' is a required property"),
    ("order.created", {**ORDER, "total": 120.5}, "order.created: payload/total: 120.5 is not of type 'string'"),
    ("order.created", {**ORDER, "currency": "euro"}, "order.created: payload/currency: 'euro' does not match '^[A-Z]{3}$'"),
    ("order.created", {**ORDER, "totl": "1"},
     "order.created: payload: Additional properties are not allowed ('totl' was unexpected)"),
    ("envelope", {}, "type: unknown event type 'envelope'"),
])
def test_invalid_events_are_refused_naming_type_and_field(app, type_, payload, message):
    with pytest.raises(EventInvalid) as refused:
        run(app, lambda s: emit(s, type_, payload))

    assert str(refused.value).startswith(message)
    assert outbox(app) == []


def test_a_key_must_be_an_entity_id(app):
    with pytest.raises(EventInvalid, match=r"order.created: key: expected an entity id of 1-128 characters"):
        run(app, lambda s: emit(s, "order.created", ORDER, key="x" * 129))


def test_the_periodic_retry_publishes_rows_a_lost_enqueue_left_behind(app, monkeypatch):
    import runtime.events.outbox

    monkeypatch.setattr(runtime.events.outbox, "_publish_after_commit", lambda session: None)  # enqueue lost
    run(app, lambda s: emit(s, "order.created", ORDER, key="o1"))
    assert outbox(app)[0].published_at is None

    assert [e.value.func for e in periodic_jobs(app) if e.value.func is publish_outbox] == [publish_outbox]
    with app.app_context():
        assert publish_outbox() == 1
        assert publish_outbox() == 0
    drain(app)

    assert outbox(app)[0].published_at is not None
    assert stored_event_ids(app) == [outbox(app)[0].id]


def test_a_failed_publication_is_recorded_and_retried_in_order(app, monkeypatch):
    import runtime.automations

    real = runtime.automations.publish_event
    monkeypatch.setattr(runtime.automations, "publish_event", lambda session, event: (_ for _ in ()).throw(
        redis.ConnectionError("Redis is down")))
    run(app, lambda s: [emit(s, "order.created", {**ORDER, "order_id": f"o{i}"}, key=f"o{i}") for i in range(2)])

    first, second = outbox(app)
    assert (first.published_at, first.attempts, first.last_error) == (None, 1, "ConnectionError: Redis is down")
    assert (second.published_at, second.attempts, second.last_error) == (None, 0, None)  # waits behind the first
    assert sample(app, "vectis_events_failed", "order.created") == 1
    assert stored_event_ids(app) == []

    monkeypatch.setattr(runtime.automations, "publish_event", real)
    with app.app_context():
        assert publish_outbox() == 2
    drain(app)

    first, second = outbox(app)
    assert (first.attempts, second.attempts) == (2, 1)
    assert first.published_at is not None and second.published_at is not None
    assert stored_event_ids(app) == [first.id, second.id]


def test_a_redis_outage_leaves_rows_unpublished_until_it_ends(app, monkeypatch):
    if get_dispatcher(app).connection is None:
        pytest.skip("no Redis stream on the embedded default")

    def down(connection, event):
        raise redis.ConnectionError("Error 111 connecting to redis")

    real = stream.add
    monkeypatch.setattr(stream, "add", down)
    run(app, lambda s: emit(s, "order.created", ORDER, key="o1"))
    assert outbox(app)[0].last_error == "ConnectionError: Error 111 connecting to redis"
    assert stored_event_ids(app) == []

    monkeypatch.setattr(stream, "add", real)
    with app.app_context():
        assert publish_outbox() == 1
    assert [e["id"] for e in stream.read(get_dispatcher(app).connection)] == [outbox(app)[0].id]


def test_publishing_twice_is_harmless(app):
    run(app, lambda s: emit(s, "order.created", ORDER, key="o1"))

    def forget_publication(session):  # as if the marking transaction had been lost after the hand-off
        row = session.exec(select(OutboxEvent)).one()
        row.published_at = None
        session.add(row)

    app.extensions["vectis.db"].run(forget_publication)
    with app.app_context():
        assert publish_outbox() == 1
    drain(app)

    assert stored_event_ids(app) == [outbox(app)[0].id]  # the consumer stores each id once
    connection = get_dispatcher(app).connection
    if connection is not None:  # at least once on the stream: readers keep the ids they saw
        assert [e["id"] for e in stream.read(connection)] == [outbox(app)[0].id] * 2


REFUNDS_TWICE = f"""\
kind: automation
name: refunds_twice
on:
  all:
    - refund: {{type: payment.refunded, amount: {{$gte: 5}}}}
  count: 2
  within: 1d
  correlate_by: account_id
do: [{PAUSE}]
"""


def test_an_automation_fires_from_emitted_events(app, frozen_clock):
    CALLS.clear()
    register_effect(app)
    publish_definition(app, REFUNDS_TWICE)

    run(app, lambda s: emit(s, "payment.refunded", refunded("p1"), key="p1"))
    run(app, lambda s: emit(s, "payment.refunded", refunded("p2", account="a2"), key="p2"))
    assert CALLS == []
    frozen_clock.advance(hours=1)
    run(app, lambda s: emit(s, "payment.refunded", refunded("p3"), key="p3"))

    assert len(CALLS) == 1
    assert CALLS[0].context["correlation"] == "a1"
    assert CALLS[0].context["event_ids"] == sorted(r.id for r in outbox(app) if r.key in ("p1", "p3"))
    CALLS.clear()


def test_concurrent_publishers_publish_each_row_once(app, monkeypatch):
    if app.extensions["vectis.db"].dialect != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serializes writers on its own)")
    import threading

    import runtime.events.outbox

    monkeypatch.setattr(runtime.events.outbox, "_publish_after_commit", lambda session: None)
    run(app, lambda s: [emit(s, "cart.created", {"cart_id": f"c{i}", "channel_id": "web", "currency": "EUR"},
                             key=f"c{i}") for i in range(60)])
    counts: list[int] = []
    start = threading.Barrier(3)

    def publisher():
        with app.app_context():
            start.wait()
            counts.append(publish_outbox())

    threads = [threading.Thread(target=publisher) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drain(app)

    ids = [r.id for r in outbox(app)]
    assert sum(counts) == 60
    assert [e["id"] for e in stream.read(get_dispatcher(app).connection)] == ids
    assert stored_event_ids(app) == ids


def test_on_redis_one_waiting_publisher_serves_every_transaction_committed_before_it_runs(app):
    from runtime.events.publisher import PENDING_KEY

    connection = get_dispatcher(app).connection
    if connection is None:
        pytest.skip("in-process jobs: each transaction publishes at once, nothing waits")
    events = get_dispatcher(app).queue("events")
    with app.app_context():
        for i in range(3):  # three transactions, no worker yet: one publisher job waits
            app.extensions["vectis.db"].run(lambda s, i=i: emit(
                s, "cart.created", {"cart_id": f"c{i}", "channel_id": "web", "currency": "EUR"}, key=f"c{i}"))
    assert events.count == 1 and connection.exists(PENDING_KEY)
    drain(app)  # the job clears the flag before it reads, and publishes all three
    assert [r.published_at is not None for r in outbox(app)] == [True, True, True]
    assert [e["payload"]["cart_id"] for e in stream.read(connection)] == ["c0", "c1", "c2"]
    assert not connection.exists(PENDING_KEY) and events.count == 0
    # a transaction after that run enqueues a new one
    run(app, lambda s: emit(s, "cart.created", {"cart_id": "c3", "channel_id": "web", "currency": "EUR"}, key="c3"))
    assert [e["payload"]["cart_id"] for e in stream.read(connection)] == ["c0", "c1", "c2", "c3"]
