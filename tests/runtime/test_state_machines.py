"""Firing transitions on bound entities: blockers, optimistic state change, history, effects."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.errors import BusinessError, BusinessErrors
from runtime.state_machines import (
    TIMER, Binding, StateMachineErrorCode, available_transitions, bind, fire, history,
)
from runtime.state_machines.models import StateTransition
from tests.runtime.state_machine_fixtures import (
    CALLS, CLERK, SHIPPER, Parcel, add_parcels, machine_app, settings,  # noqa: F401
)


def _state(database, parcel_id):
    with database.session() as session:
        return session.get(Parcel, parcel_id).state


def _history_rows(database):
    with database.session() as session:
        return [(r.entity_id, r.transition, r.from_state, r.to_state, r.actor, r.context)
                for r in session.exec(select(StateTransition).order_by(StateTransition.id)).scalars()]


def test_available_transitions_say_why_each_blocked_one_is(machine_app, database):
    # given a packed parcel with no items
    [parcel_id] = add_parcels(database, 1, item_count=0)

    # when a clerk asks what can happen next
    with database.session() as session:
        options = available_transitions(session, session.get(Parcel, parcel_id), CLERK)

    # then every transition from 'packed' is listed, the blocked one with its reason
    assert [(o.name, o.target, o.available, [(e.code, e.message) for e in o.blockers])
            for o in options] == [
        ("send", "sent", False, [("GUARD_FAILED", "guard failed: item_count > 0")]),
        ("expire", "expired", True, []),
    ]


def test_fire_moves_the_entity_writes_history_and_runs_effects(machine_app, database, frozen_clock):
    [parcel_id] = add_parcels(database, 1, item_count=2)
    frozen_clock.advance(minutes=5)
    seen_inside = []

    # when a clerk sends it with a note
    def work(session):
        parcel = session.get(Parcel, parcel_id)
        fired = fire(session, parcel, "send", CLERK, {"note": "fragile"})
        seen_inside.append([(name, has_session) for name, _, has_session in CALLS])
        return fired, parcel.state, parcel.state_entered_at

    fired, in_memory_state, entered_at = database.run(work)

    # then the row moved, the entity object too, and history names the live revision
    assert (fired.from_state, fired.to_state, fired.revision) == ("packed", "sent", 1)
    assert (in_memory_state, entered_at) == ("sent", frozen_clock.now())
    assert _state(database, parcel_id) == "sent"
    assert _history_rows(database) == [
        (str(parcel_id), "send", "packed", "sent", "clerk@example.test", {"note": "fragile"})]
    with database.session() as session:
        row = session.get(StateTransition, fired.history_id)
        assert (row.machine, row.entity_type, row.revision, row.at) == (
            "parcel_flow", "parcel", 1, frozen_clock.now())
    # the in-transaction effect ran inside; the after-commit one only after the commit
    assert seen_inside == [[("audit", True)]]
    assert [(name, call.entity_ids, call.transition, has_session) for name, call, has_session in CALLS] == [
        ("audit", (str(parcel_id),), "send", True),
        ("notify", (str(parcel_id),), "send", False),
    ]


def test_a_blocked_fire_changes_nothing(machine_app, database):
    [parcel_id] = add_parcels(database, 1, item_count=0)

    # when a clerk sends an empty parcel with an undeclared context key
    with pytest.raises(BusinessErrors) as raised:
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "send", CLERK, {"why": "x"}))

    # then each blocker is a business error, and nothing was written or run
    assert [(e.code, e.field, e.message) for e in raised.value.errors] == [
        ("INVALID_CONTEXT", "transition", "context: unknown key 'why' (declared: note)"),
    ]
    with pytest.raises(BusinessErrors) as raised:
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "send", CLERK))
    assert [(e.code, e.message) for e in raised.value.errors] == [
        ("GUARD_FAILED", "guard failed: item_count > 0")]
    assert _state(database, parcel_id) == "packed"
    assert _history_rows(database) == []
    assert CALLS == []


def test_permission_and_state_blockers(machine_app, database):
    [parcel_id] = add_parcels(database, 1, state="sent")

    with pytest.raises(BusinessErrors) as raised:
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "deliver", CLERK))
    assert [(e.code, e.message, e.params) for e in raised.value.errors] == [
        ("PERMISSION_DENIED", "needs permission 'orders.ship'",
         {"transition": "deliver", "permission": "orders.ship"})]

    with pytest.raises(BusinessErrors) as raised:
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "send", SHIPPER))
    assert [(e.code, e.message) for e in raised.value.errors] == [
        ("NOT_FROM_STATE", "'send' cannot fire from state 'sent'")]

    fired = database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "deliver", SHIPPER))
    assert (fired.to_state, _state(database, parcel_id)) == ("delivered", "delivered")


def test_an_unknown_transition_is_a_blocker_naming_it(machine_app, database):
    [parcel_id] = add_parcels(database, 1)

    with pytest.raises(BusinessErrors) as raised:
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "sned", SHIPPER))

    [error] = raised.value.errors
    assert (error.code, error.params["transition"]) == ("UNKNOWN_TRANSITION", "sned")
    assert _state(database, parcel_id) == "packed"
    assert _history_rows(database) == []


def test_a_stale_entity_loses_to_the_change_that_moved_it_first(machine_app, database):
    # given a parcel loaded by one transaction while another one sends it
    [parcel_id] = add_parcels(database, 1)
    with database.transaction() as session:
        stale = session.get(Parcel, parcel_id)
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "send", CLERK))

        # when the first transaction fires from the state it read
        with pytest.raises(BusinessError) as raised:
            fire(session, stale, "expire", TIMER)

    # then it is refused with STATE_CHANGED and only the winner's history exists
    assert (raised.value.code, raised.value.message) == (
        "STATE_CHANGED", f"parcel {parcel_id} is no longer 'packed': another change moved it first; "
        "reload it and try again")
    assert _state(database, parcel_id) == "sent"
    assert [row[1] for row in _history_rows(database)] == ["send"]


def test_guards_read_the_context(machine_app, database):
    [parcel_id] = add_parcels(database, 1, state="sent")

    with pytest.raises(BusinessErrors) as raised:
        database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "lose", CLERK))
    assert [e.message for e in raised.value.errors] == ["guard failed: context.note exists"]

    database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "lose", CLERK, {"note": "courier"}))
    assert _state(database, parcel_id) == "lost"


def test_history_lists_an_entitys_transitions(machine_app, database):
    [parcel_id] = add_parcels(database, 1)
    database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "send", CLERK))
    database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "deliver", SHIPPER))

    with database.session() as session:
        rows = history(session, session.get(Parcel, parcel_id))

    assert [(r.transition, r.actor) for r in rows] == [
        ("send", "clerk@example.test"), ("deliver", "shipper@example.test")]


def test_a_machine_without_a_live_revision_is_refused(app, database):
    from tests.runtime.state_machine_fixtures import Base

    Base.metadata.create_all(database.engine)
    try:
        bind(app, Parcel, machine="nowhere", entity_type="parcel")
        [parcel_id] = add_parcels(database, 1)
        with app.app_context(), pytest.raises(BusinessError) as raised:
            database.run(lambda s: fire(s, s.get(Parcel, parcel_id), "send", CLERK))
    finally:
        Base.metadata.drop_all(database.engine)

    assert (raised.value.code, raised.value.message) == (
        StateMachineErrorCode.MACHINE_NOT_LIVE.value, "state machine 'nowhere' has no live revision")


def test_binding_refuses_a_table_without_state_columns():
    from runtime.definitions.models import DefinitionRevision

    with pytest.raises(ValueError) as raised:
        Binding(DefinitionRevision, "order", "definition")

    assert str(raised.value) == ("model: DefinitionRevision lacks the column(s) state, "
                                 "state_entered_at a state machine needs "
                                 "(see runtime.state_machines.models)")


def test_binding_a_model_twice_is_refused(machine_app):
    with pytest.raises(ValueError) as raised:
        bind(machine_app, Parcel, machine="parcel_flow")

    assert str(raised.value) == "model: Parcel is bound twice"


MACHINES_QUERY = """{ stateMachine(name: "parcel_flow") {
  name revision entity context initial boundTo mermaid
  states { name initial final }
  transitions { name from to permission guard effects }
  timers { state after transition }
} }"""


def test_graphql_reads_a_live_machine_with_its_diagram(machine_app, client):
    from tests.runtime.helpers import gql, signed_in

    token = signed_in(machine_app, client, "viewer")

    data = gql(client, MACHINES_QUERY, token=token).get_json()["data"]["stateMachine"]

    assert {k: data[k] for k in ("name", "revision", "entity", "context", "initial", "boundTo")} == {
        "name": "parcel_flow", "revision": 1, "entity": "order", "context": {"note": "string"},
        "initial": "packed", "boundTo": ["parcel"]}
    assert data["states"][:2] == [{"name": "packed", "initial": True, "final": False},
                                  {"name": "sent", "initial": False, "final": False}]
    assert data["transitions"][0] == {
        "name": "send", "from": ["packed"], "to": "sent", "permission": None,
        "guard": {"item_count": {"gt": 0}},
        "effects": ["test.audit", "test.notify"]}
    assert data["timers"] == [{"state": "packed", "after": "30m", "transition": "expire"}]
    assert data["mermaid"].splitlines()[:3] == [
        "stateDiagram-v2", "    [*] --> packed", "    packed --> sent: send"]


def test_graphql_machines_need_definitions_read(machine_app, client):
    from tests.runtime.helpers import gql

    body = gql(client, "{ stateMachines { name } }").get_json()

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
