"""The stranded-entity rule of store.publish: a state machine revision that removes a state live
entities hold is refused (nothing changes) unless its ``moves`` say where they go; then the
entities move in the same transaction, with a history row each."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.models import DefinitionRevision
from runtime.errors import BusinessError
from runtime.state_machines.models import StateTransition
from tests.runtime.state_machine_fixtures import MACHINE, Parcel, add_parcels, machine_app, settings  # noqa: F401

#: The fixture's machine without 'lost' (and without the transition into it).
WITHOUT_LOST = MACHINE.replace("  lost: {final: true}\n", "").replace(
    "  lose: {from: sent, to: lost, guard: {context.note: {exists: true}}}\n", "")


def publish(app, source):
    env = build_environment(app.extensions["vectis.registry"])
    return app.extensions["vectis.db"].run(lambda s: store.publish(s, source, env, author="merch", origin="test"))


def states(database):
    with database.session() as session:
        return sorted(p.state for p in session.exec(select(Parcel)).scalars())


def revisions(database):
    with database.session() as session:
        return session.exec(select(DefinitionRevision.revision).where(
            DefinitionRevision.name == "parcel_flow").order_by(DefinitionRevision.revision)).scalars().all()


def test_removing_a_state_nobody_holds_publishes(machine_app, database):
    add_parcels(database, 2, state="sent")

    row, created = publish(machine_app, WITHOUT_LOST)

    assert (row.revision, created) == (2, True)
    assert states(database) == ["sent", "sent"]


def test_removing_a_held_state_is_refused_and_nothing_changes(machine_app, database):
    add_parcels(database, 3, state="lost")
    add_parcels(database, 1, state="sent")

    with pytest.raises(BusinessError) as refused:
        publish(machine_app, WITHOUT_LOST)

    assert refused.value.code == "STRANDED_ENTITIES"
    assert refused.value.message == (
        "source: state_machine/parcel_flow would strand live entities (3 in 'lost'); add "
        "'moves: {lost: <state>}' to say where they go")
    assert refused.value.params == {"stranded": {"lost": 3}}
    assert revisions(database) == [1]
    assert states(database) == ["lost", "lost", "lost", "sent"]


def test_moves_send_the_held_entities_to_the_named_state_with_history(machine_app, database, frozen_clock):
    ids = add_parcels(database, 2, state="lost")
    add_parcels(database, 1, state="packed")
    frozen_clock.advance(minutes=3)

    row, created = publish(machine_app, WITHOUT_LOST + "moves:\n  lost: expired\n")

    assert (row.revision, created) == (2, True)
    assert states(database) == ["expired", "expired", "packed"]
    with database.session() as session:
        history = [(h.entity_id, h.transition, h.from_state, h.to_state, h.actor, h.revision)
                   for h in session.exec(select(StateTransition).order_by(StateTransition.entity_id)).scalars()]
        entered = {p.state_entered_at for p in session.exec(select(Parcel).where(Parcel.id.in_(ids))).scalars()}
    assert history == [(str(i), "moves", "lost", "expired", "system:publish", 2) for i in sorted(ids)]
    assert entered == {frozen_clock.now()}


def test_a_move_into_an_unknown_state_or_from_a_kept_state_is_an_author_error(machine_app, database):
    with pytest.raises(Exception) as refused:
        publish(machine_app, WITHOUT_LOST + "moves:\n  lost: gone\n  sent: packed\n")

    messages = [e.message for e in refused.value.errors]
    assert sorted(messages) == [
        "source:24:9: state_machine/parcel_flow: /moves/lost: unknown state 'gone'",
        "source:25:3: state_machine/parcel_flow: /moves/sent: state 'sent' is still a state of this machine; moves "
        "name removed states only"]
    assert revisions(database) == [1]
