"""The automation consumer on a real database: windows, correlation, absence, restart, no double firing.

Events enter through :func:`publish_event` as the outbox will feed them; the effect is a
test-registered ``test.pause_recurring_orders`` that records its calls. With Redis
(the PostgreSQL run) jobs go to RQ, and :func:`drain` works the queues in this process.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from runtime.app import create_app
from runtime.automations import EventRejected, consume_event, consume_pending_events, publish_event
from runtime.automations.models import AutomationEvent, AutomationFiring, AutomationMatch
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.live import live_definitions
from runtime.jobs import get_dispatcher
from runtime.state_machines.effects import Effect

PAUSE = "test.pause_recurring_orders"
CALLS: list = []

REFUNDS = f"""\
kind: automation
name: repeated_refunds
description: Three refunds executed for one account within 30 days pause its recurring orders.
on:
  all:
    - refund: {{type: refund.executed}}
  count: 3
  within: 30d
  correlate_by: account_id
do: [{PAUSE}]
"""

NO_RECENT_ORDER = f"""\
kind: automation
name: refund_without_recent_order
on:
  all:
    - refund: {{type: refund.executed}}
    - order$not: {{type: order.placed}}
  within: 7d
  correlate_by: account_id
do: [{PAUSE}]
"""

CHARGEBACK_AFTER_REFUND = f"""\
kind: automation
name: chargeback_after_refund
on:
  all:
    - refund: {{type: refund.executed}}
    - chargeback:
        type: payment.charged_back
        entity_id: {{refund: entity_id}}
do: [{PAUSE}]
"""


def record(call) -> None:
    CALLS.append(call)


def register_effect(app) -> None:
    app.extensions["vectis.registry"].register("test", "effect_action", "pause_recurring_orders",
                                               Effect(record), label="Pause recurring orders")


@pytest.fixture
def automations(app, frozen_clock):
    CALLS.clear()
    register_effect(app)
    yield app
    CALLS.clear()


def publish_definition(app, source: str) -> None:
    env = build_environment(app.extensions["vectis.registry"])
    app.extensions["vectis.db"].run(lambda s: store.publish(s, source, env, author="merch@example.test"))
    live_definitions(app).refresh(force=True)


def drain(app) -> None:
    """Run queued jobs: nothing to do in-process; with Redis, work the queues in this process."""
    if get_dispatcher(app).in_process:
        return
    from runtime.jobs.worker import VectisSimpleWorker, build_worker

    with app.app_context():
        build_worker(app, worker_class=VectisSimpleWorker).work(burst=True)


def send(app, event_id: str, type_: str, days: float, **fields) -> bool:
    """Publish an event that occurred ``days`` after the frozen start, as the outbox would."""
    from runtime.clock import utcnow

    event = {"id": event_id, "type": type_, "occurred_at": (utcnow() + timedelta(days=days)).isoformat(), **fields}
    with app.app_context():  # the outbox publishes inside the app, as any job does
        created = app.extensions["vectis.db"].run(lambda s: publish_event(s, event))
    drain(app)
    return created


def firings(app) -> list[tuple[str, list[str], str | None]]:
    with app.extensions["vectis.db"].session() as s:
        rows = s.exec(select(AutomationFiring).order_by(AutomationFiring.id)).all()
        return [(r.automation, r.event_ids, r.correlation) for r in rows]


def refund(app, event_id: str, days: float, account: str = "a1") -> bool:
    return send(app, event_id, "refund.executed", days, account_id=account)


# -- the refund example -------------------------------------------------------------------------


def test_third_refund_within_30_days_fires_once(automations):
    app = automations
    publish_definition(app, REFUNDS)

    refund(app, "r1", 0)
    refund(app, "r2", 10)
    assert firings(app) == [] and CALLS == []

    refund(app, "r3", 20)

    assert firings(app) == [("repeated_refunds", ["r1", "r2", "r3"], "a1")]
    assert [(c.machine, c.entity_type, c.entity_ids, c.actor, c.revision) for c in CALLS] == [
        ("repeated_refunds", "account_id", ("a1",), "automation:repeated_refunds", 1)]
    assert CALLS[0].context["event_ids"] == ["r1", "r2", "r3"]

    # a fourth refund starts a new count: it does not fire with events already taken
    refund(app, "r4", 21)
    assert len(firings(app)) == 1 and len(CALLS) == 1


def test_a_refund_outside_the_window_no_longer_counts(automations):
    app = automations
    publish_definition(app, REFUNDS)

    refund(app, "r1", 0)
    refund(app, "r2", 10)
    refund(app, "r3", 31)  # r1 is 31 days older: only r2 and r3 are in the window
    assert firings(app) == []

    refund(app, "r4", 35)  # the window [5, 35] holds r2, r3, r4
    assert firings(app) == [("repeated_refunds", ["r2", "r3", "r4"], "a1")]


def test_correlation_keeps_accounts_apart(automations):
    app = automations
    publish_definition(app, REFUNDS)

    for number, account in enumerate(["a1", "a2", "a1", "a2", "a1"]):
        refund(app, f"r{number}", number, account)

    assert firings(app) == [("repeated_refunds", ["r0", "r2", "r4"], "a1")]
    assert [c.entity_ids for c in CALLS] == [("a1",)]


def test_events_without_the_correlation_field_are_ignored(automations):
    app = automations
    publish_definition(app, REFUNDS)

    for number in range(3):
        send(app, f"r{number}", "refund.executed", number)  # no account_id

    assert firings(app) == []


# -- absence and references ------------------------------------------------------------------------


def test_absence_fires_only_without_a_recent_order(automations):
    app = automations
    publish_definition(app, NO_RECENT_ORDER)

    send(app, "o1", "order.placed", 0, account_id="a1")
    refund(app, "r1", 1, "a1")  # an order 1 day before: no firing
    refund(app, "r2", 1, "a2")  # no order for a2: fires
    refund(app, "r3", 9, "a1")  # the order is 9 days old, out of the 7-day window: fires

    assert firings(app) == [("refund_without_recent_order", ["r2"], "a2"),
                            ("refund_without_recent_order", ["r3"], "a1")]


def test_reference_matches_a_chargeback_to_the_refund_of_the_same_entity(automations):
    app = automations
    publish_definition(app, CHARGEBACK_AFTER_REFUND)

    send(app, "r1", "refund.executed", 0, entity_id="order-1")
    send(app, "c1", "payment.charged_back", 1, entity_id="order-2")  # another order: no match
    assert firings(app) == []

    send(app, "c2", "payment.charged_back", 2, entity_id="order-1")

    assert firings(app) == [("chargeback_after_refund", ["c2", "r1"], None)]
    assert CALLS[0].entity_type == "event" and CALLS[0].entity_ids == ("c2", "r1")


# -- restart, replay, revisions ---------------------------------------------------------------------


def test_a_restarted_consumer_completes_a_partial_match(automations, settings):
    # given two refunds consumed by one app (one consumer process)
    app = automations
    publish_definition(app, REFUNDS)
    refund(app, "r1", 0)
    refund(app, "r2", 1)

    # when a new app on the same database (a restarted consumer) receives the third
    restarted = create_app(settings)
    register_effect(restarted)
    try:
        refund(restarted, "r3", 2)
        # then the partial match was not lost: it fires once
        assert firings(restarted) == [("repeated_refunds", ["r1", "r2", "r3"], "a1")]
        assert len(CALLS) == 1
    finally:
        restarted.extensions["vectis.db"].dispose()


def test_replaying_the_same_events_never_fires_twice(automations, settings):
    app = automations
    publish_definition(app, REFUNDS)
    for number in range(3):
        refund(app, f"r{number}", number)

    # the outbox delivers the same events again: nothing is stored or queued
    assert [refund(app, f"r{number}", number) for number in range(3)] == [False, False, False]
    # a job delivered twice, or a second consumer reaching the same events
    second = create_app(settings)
    register_effect(second)
    try:
        for target in (app, second):
            with target.app_context():
                assert [consume_event(f"r{number}") for number in range(3)] == [0, 0, 0]
    finally:
        second.extensions["vectis.db"].dispose()

    assert len(firings(app)) == 1 and len(CALLS) == 1


def test_a_match_and_an_event_are_taken_at_most_once_by_the_database(automations):
    app = automations
    publish_definition(app, REFUNDS)
    for number in range(3):
        refund(app, f"r{number}", number)
    (firing,) = firings(app)

    def duplicate_firing(session):
        row = session.exec(select(AutomationFiring)).one()
        session.add(AutomationFiring(automation=row.automation, revision=2, match_key=row.match_key,
                                     event_ids=row.event_ids, actions=[]))

    def event_taken_twice(session):
        row = session.exec(select(AutomationFiring)).one()
        session.add(AutomationMatch(automation="repeated_refunds", event_id="r0", firing_id=row.id))

    for work in (duplicate_firing, event_taken_twice):
        with pytest.raises(IntegrityError):
            app.extensions["vectis.db"].run(work, attempts=1)
    assert firings(app) == [firing]


def test_a_new_revision_rebuilds_the_automation(automations):
    app = automations
    publish_definition(app, REFUNDS)
    refund(app, "r1", 0)

    publish_definition(app, REFUNDS.replace("count: 3", "count: 2"))
    refund(app, "r2", 1)

    assert firings(app) == [("repeated_refunds", ["r1", "r2"], "a1")]
    assert CALLS[0].revision == 2


# -- failures ------------------------------------------------------------------------------------------


def test_a_durable_rules_failure_is_logged_counted_and_spares_the_others(automations, monkeypatch, caplog):
    from rules.automation_engine import AutomationRunError
    from runtime.automations import get_consumer
    from runtime.observability import get_metrics

    app = automations
    publish_definition(app, REFUNDS)
    publish_definition(app, NO_RECENT_ORDER)
    matcher = get_consumer(app).matcher
    real = matcher.matches

    def broken(automation, events):
        if automation.name == "repeated_refunds":
            raise AutomationRunError("automation repeated_refunds: durable_rules failed: error code 303")
        return real(automation, events)

    monkeypatch.setattr(matcher, "matches", broken)

    refund(app, "r1", 0)

    assert firings(app) == [("refund_without_recent_order", ["r1"], "a1")]
    assert "durable_rules failed: error code 303" in caplog.text
    sample = get_metrics(app).registry.get_sample_value(
        "vectis_automation_errors_total", {"automation": "repeated_refunds", "reason": "durable_rules"})
    assert sample == 1.0
    with app.extensions["vectis.db"].session() as s:  # a deterministic failure is not retried
        assert s.exec(select(AutomationEvent.processed_at)).one() is not None


def test_the_pending_sweep_consumes_an_event_whose_job_was_lost(automations, frozen_clock):
    app = automations
    publish_definition(app, REFUNDS)
    refund(app, "r1", 0)
    refund(app, "r2", 1)

    def store_without_job(session):  # as if the enqueue after commit had failed
        session.add(AutomationEvent(event_id="r3", type="refund.executed", occurred_at=frozen_clock.now() + timedelta(days=2),
                                    account_id="a1", data={"id": "r3", "type": "refund.executed",
                                                           "account_id": "a1"}))

    app.extensions["vectis.db"].run(store_without_job)
    with app.app_context():
        assert consume_pending_events() == 0  # not yet past the grace period
        frozen_clock.advance(minutes=2)
        assert consume_pending_events() == 1
        assert consume_pending_events() == 0
    drain(app)

    assert firings(app) == [("repeated_refunds", ["r1", "r2", "r3"], "a1")]
    assert len(CALLS) == 1


@pytest.mark.parametrize("event, message", [
    ({"type": "refund.executed", "occurred_at": "2026-01-01T00:00:00Z"}, "id: an event needs an id"),
    ({"id": "e1", "occurred_at": "2026-01-01T00:00:00Z"}, "type: an event needs a type"),
    ({"id": "e1", "type": "x", "occurred_at": "2026-01-01T00:00:00"}, "occurred_at: expected a timezone-aware time"),
    ({"id": "e1", "type": "x", "occurred_at": "soon"}, "occurred_at: 'soon' is not an ISO 8601 time"),
    ({"id": "e1", "type": "x", "occurred_at": "2026-01-01T00:00:00Z", "acount_id": "a1"},
     "event: Additional properties are not allowed ('acount_id' was unexpected)"),
    ({"id": "e1", "type": "x", "occurred_at": "2026-01-01T00:00:00Z", "amount": "12"},
     "amount: '12' is not of type 'number'"),
])
def test_publish_event_refuses_what_is_not_an_event(automations, event, message):
    app = automations

    with pytest.raises(EventRejected) as refused, app.app_context():
        app.extensions["vectis.db"].run(lambda s: publish_event(s, event))

    assert str(refused.value) == message
    with app.extensions["vectis.db"].session() as s:
        assert s.exec(select(AutomationEvent)).all() == []


def test_an_event_no_automation_listens_to_is_stored_but_not_consumed(automations, monkeypatch):
    from runtime.automations import consumer

    app = automations
    publish_definition(app, REFUNDS)
    consumed = []
    monkeypatch.setattr(consumer, "_consume", lambda *args: consumed.append(args[-1]) or 0)

    send(app, "o1", "order.created", 0, account_id="a1")
    refund(app, "r1", 1)

    with app.extensions["vectis.db"].session() as s:
        rows = {r.event_id: r.processed_at is not None
                for r in s.exec(select(AutomationEvent)).all()}
    assert consumed == ["r1"]  # only the refund reached the automation
    assert rows == {"o1": True, "r1": True}  # both stored, for later windows; both done
