"""Entering a machine without the generic fire's extra round trips, for rows this transaction
writes itself (a new order, a new payment row): the live machine still decides (guard,
permission), and the history row still names the actor and the live revision.

:func:`runtime.state_machines.service.fire` flushes, moves the row with an optimistic
``UPDATE … WHERE state = :from`` and flushes again. A row created in the same transaction cannot
be moved by anyone else, so here the new state is set on the object and written with the row's
own INSERT (or the UPDATE the ORM issues anyway), and the history row joins the next flush.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlmodel import Session

from runtime.auth.permissions import Actor
from runtime.clock import utcnow
from runtime.errors import BusinessErrors
from runtime.state_machines.bindings import bindings
from runtime.state_machines.effects import EffectCall, run_effects
from runtime.state_machines.models import StateTransition
from runtime.state_machines.service import SystemActor, _permissions, _refusal, live_machine


def initial_state(model: type) -> str:
    """The initial state of the machine ``model`` is bound to."""
    binding = next(b for b in bindings(current_app).all() if b.model is model)
    return live_machine(current_app, binding.machine).compiled.initial


def apply(session: Session, entity: Any, transition: str, actor: Actor | SystemActor,
          context: dict | None = None) -> StateTransition:
    """Check ``transition`` against the live machine and move ``entity`` in memory.

    Raises :class:`BusinessErrors` (one per blocker) when blocked. A new entity is inserted in
    its new state; otherwise the state is written by the next flush, with the history row.
    """
    return apply_chain(session, entity, [(transition, actor, context)])[-1]


def apply_chain(session: Session, entity: Any,
                steps: list[tuple[str, Actor | SystemActor, dict | None]]) -> list[StateTransition]:
    """:func:`apply` for several transitions in a row (authorize, then capture): each is checked
    from the state the previous one reached; a new entity is inserted once, in the last state."""
    moves = check_chain(entity, steps)
    session.add(entity)
    if bindings(current_app).for_entity(entity).entity_id(entity) is None:
        session.flush()  # a new row is inserted in its last state: no UPDATE follows
    return write_history(session, entity, moves)


def check_chain(entity: Any, steps: list[tuple[str, Actor | SystemActor, dict | None]]) -> list[tuple]:
    """The machine's verdict on each step, the entity moved in memory; nothing written yet. Rows
    that several checked chains create are then inserted by one flush (one multi-row INSERT)."""
    binding = bindings(current_app).for_entity(entity)
    live = live_machine(current_app, binding.machine)
    machine = live.compiled
    moves = []
    for transition, actor, context in steps:
        source = entity.state
        blockers = machine.can_fire(source, transition, binding.fact(entity), _permissions(actor), context)
        if blockers:
            raise BusinessErrors([_refusal(b, transition) for b in blockers])
        found = machine.transitions[transition]
        entity.state, entity.state_entered_at = found.target, utcnow()
        moves.append((found, source, actor, context, entity.state_entered_at, machine.name, live.revision))
    return moves


def write_history(session: Session, entity: Any, moves: list[tuple]) -> list[StateTransition]:
    """The history rows of :func:`check_chain`'s moves (the entity has its id), and their effects."""
    binding = bindings(current_app).for_entity(entity)
    rows = []
    for found, source, actor, context, at, machine, revision in moves:
        row = StateTransition(machine=machine, entity_type=binding.entity_type,
                              entity_id=str(binding.entity_id(entity)), transition=found.name,
                              from_state=source, to_state=found.target, actor=actor.label,
                              revision=revision, at=at, context=dict(context or {}))
        session.add(row)
        rows.append(row)
        if found.effects:  # effects read the entity's new state: write it first
            session.flush()
            call = EffectCall(machine, binding.entity_type, (str(binding.entity_id(entity)),), found.name,
                              source, found.target, actor.label, revision, dict(context or {}))
            run_effects(session, current_app.extensions["vectis.registry"], found.effects, call)
    return rows
