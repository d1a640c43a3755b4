"""Firing transitions on bound entities: the engine decides, the runtime persists.

Everything runs in the caller's session (its transaction): :func:`fire` checks the live
machine's blockers, moves the row with an optimistic ``UPDATE … WHERE state = :from`` (two
concurrent fires cannot both win), writes the history row with the definition revision, runs
in-transaction effects and queues the others for after the commit. A refused fire writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app
from rules.state_machine import Blocker, StateMachine
from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.clock import utcnow
from runtime.definitions.live import LiveDefinition, live_definitions
from runtime.errors import BusinessError, BusinessErrors
from runtime.state_machines.bindings import ENTERED_AT, STATE, Binding, bindings
from runtime.state_machines.effects import EffectCall, run_effects
from runtime.state_machines.models import StateTransition

T = TypeVar("T")

#: The definition kind of machines.
KIND = "state_machine"


class StateMachineErrorCode(str, Enum):
    """Refusals of a fire. Blocked transitions use the blocker's own code (``GUARD_FAILED``…)."""

    MACHINE_NOT_LIVE = "MACHINE_NOT_LIVE"
    STATE_CHANGED = "STATE_CHANGED"


@dataclass(frozen=True)
class SystemActor:
    """The runtime itself (the timer sweep, a job): permissions do not apply; guards do."""

    label: str = "system"


TIMER = SystemActor("system:timer")


@dataclass(frozen=True)
class Option:
    """A transition leaving the entity's current state; available when ``blockers`` is empty."""

    name: str
    target: str
    blockers: tuple[BusinessError, ...]

    @property
    def available(self) -> bool:
        return not self.blockers


@dataclass(frozen=True)
class Fired:
    transition: str
    from_state: str
    to_state: str
    revision: int
    history_id: int


def live_machine(app: Flask, name: str) -> LiveDefinition:
    live = live_definitions(app).get(KIND, name)
    if live is None:
        raise BusinessError(StateMachineErrorCode.MACHINE_NOT_LIVE,
                            f"state machine {name!r} has no live revision", field="machine",
                            machine=name)
    return live


def available_transitions(session: Session, entity: Any, actor: Actor | SystemActor,
                          context: dict | None = None) -> list[Option]:
    """Every transition from the entity's state, each with why it cannot fire (if it cannot)."""
    binding = bindings(current_app).for_entity(entity)
    machine: StateMachine = live_machine(current_app, binding.machine).compiled
    options = machine.options(getattr(entity, STATE), binding.fact(entity), _permissions(actor),
                              context)
    return [Option(t.name, t.target, tuple(_refusal(b, t.name) for b in blockers))
            for t, blockers in options]


#: Times :func:`run_moving` runs a transaction whose entity another one moved first.
MOVE_ATTEMPTS = 3


def run_moving(database, work: Callable[[Session], T], attempts: int = MOVE_ATTEMPTS) -> T:
    """``database.run(work)`` again from the start while :func:`fire` answers ``STATE_CHANGED``
    (another transaction moved the entity between our read and our write); the last refusal is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return database.run(work)
        except BusinessError as exc:
            if exc.code != StateMachineErrorCode.STATE_CHANGED.value or attempt == attempts:
                raise
    raise AssertionError("unreachable")


def fire(session: Session, entity: Any, transition: str, actor: Actor | SystemActor,
         context: dict | None = None) -> Fired:
    """Fire ``transition`` on ``entity``; :class:`BusinessErrors` (one per blocker) when blocked,
    :class:`BusinessError` ``STATE_CHANGED`` when another transaction moved the entity first."""
    app = current_app
    binding = bindings(app).for_entity(entity)
    live = live_machine(app, binding.machine)
    machine: StateMachine = live.compiled
    session.flush()  # a new entity needs its id; pending changes must not race our UPDATE
    source = getattr(entity, STATE)
    blockers = machine.can_fire(source, transition, binding.fact(entity), _permissions(actor),
                                context)
    if blockers:
        raise BusinessErrors([_refusal(b, transition) for b in blockers])
    found = machine.transitions[transition]
    entity_id = binding.entity_id(entity)
    now = utcnow()
    _move(session, binding, entity_id, source, found.target, now)
    set_committed_value(entity, STATE, found.target)
    set_committed_value(entity, ENTERED_AT, now)
    row = StateTransition(machine=machine.name, entity_type=binding.entity_type,
                          entity_id=str(entity_id), transition=transition, from_state=source,
                          to_state=found.target, actor=actor.label, revision=live.revision,
                          at=now, context=dict(context or {}))
    session.add(row)
    session.flush()
    call = EffectCall(machine.name, binding.entity_type, (str(entity_id),), transition, source,
                      found.target, actor.label, live.revision, dict(context or {}))
    run_effects(session, app.extensions["vectis.registry"], found.effects, call)
    return Fired(transition, source, found.target, live.revision, row.id)


def history(session: Session, entity: Any) -> list[StateTransition]:
    """The entity's transitions, oldest first."""
    binding = bindings(current_app).for_entity(entity)
    statement = (select(StateTransition)
                 .where(StateTransition.entity_type == binding.entity_type,
                        StateTransition.entity_id == str(binding.entity_id(entity)))
                 .order_by(StateTransition.id))
    return list(session.exec(statement))


def _move(session: Session, binding: Binding, entity_id: Any, source: str, target: str, now) -> None:
    table = binding.table
    moved = session.execute(
        update(table)
        .where(binding.id_column == entity_id, table.c[STATE] == source)
        .values({STATE: target, ENTERED_AT: now})
    ).rowcount
    if moved != 1:
        raise BusinessError(StateMachineErrorCode.STATE_CHANGED,
                            f"{binding.entity_type} {entity_id} is no longer {source!r}: another "
                            "change moved it first; reload it and try again",
                            field="state", state=source)


def _permissions(actor: Actor | SystemActor):
    if isinstance(actor, SystemActor) or "*" in actor.permissions:
        return None  # None: the engine skips permission checks
    return actor.permissions


def _refusal(blocker: Blocker, transition: str) -> BusinessError:
    # A blocker may name the transition itself (UNKNOWN_TRANSITION): its parameters win.
    params = {"transition": transition, **{key: _plain(value) for key, value in blocker.parameters}}
    return BusinessError(blocker.code, blocker.message, field="transition", **params)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
