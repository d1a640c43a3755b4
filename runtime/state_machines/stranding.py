"""The stranded-entity rule: a state machine revision that removes a state live entities still
hold is refused unless its ``moves`` say where they go; with them, publishing moves the entities
in the same transaction (one UPDATE per bound table and removed state) and writes one history row
per entity (transition ``moves``, actor ``system:publish``), so nothing is left in a state the
machine no longer knows.

Which tables hold a machine's entities is known from the app's bindings; outside an application
context (a bare library call) no table is bound and nothing can be stranded.
"""
from __future__ import annotations

from enum import Enum

from flask import current_app, has_app_context
from rules.environment import Environment
from rules.pipeline import Definition, check_source
from rules.state_machine import StateMachine
from sqlalchemy import String, cast, func, insert, literal, select, update
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.definitions.models import DefinitionRevision
from runtime.state_machines.bindings import ENTERED_AT, STATE, Binding, bindings
from runtime.state_machines.models import StateTransition

#: The actor recorded on the history rows of moved entities.
ACTOR = "system:publish"
#: The transition name recorded on them.
TRANSITION = "moves"


class StrandingErrorCode(str, Enum):
    STRANDED_ENTITIES = "STRANDED_ENTITIES"


def _bound(machine: str) -> list[Binding]:
    return bindings(current_app).for_machine(machine) if has_app_context() else []


def held(session: Session, machine: str, states: set[str]) -> dict[str, int]:
    """Live entities per state among ``states``, over every table bound to ``machine``."""
    counts: dict[str, int] = {}
    if not states:
        return counts
    for binding in _bound(machine):
        column = binding.table.c[STATE]
        for state, count in session.execute(select(column, func.count()).where(column.in_(sorted(states)))
                                            .group_by(column)):
            counts[state] = counts.get(state, 0) + count
    return counts


def on_publish(session: Session, definition: Definition, live_before: DefinitionRevision | None, revision: int,
               env: Environment) -> None:
    """The publish hook (``runtime.definitions.store.PUBLISH_HOOKS``): state machines only."""
    if definition is None or definition.kind != "state_machine":
        return
    live_states = None
    if live_before is not None:
        previous = check_source(live_before.source, f"{live_before.kind}/{live_before.name}@{live_before.revision}",
                                env).definition
        live_states = set(previous.compiled.states) if previous is not None else None
    apply(session, definition.compiled, live_states, revision)


def apply(session: Session, draft: StateMachine, live_states: set[str] | None, revision: int) -> dict[str, int]:
    """Refuse (:data:`StrandingErrorCode.STRANDED_ENTITIES`) or move the entities ``draft`` would
    strand; returns how many moved per removed state. ``live_states``: the live revision's states
    (``None``: none live, but entities may still hold states of an older, removed definition)."""
    removed = (set(live_states) if live_states is not None else set()) - set(draft.states)
    counts = {state: n for state, n in held(session, draft.name, removed | set(draft.moves)).items()
              if n and state not in draft.states}
    stranded = {state: n for state, n in counts.items() if state not in draft.moves}
    if stranded:
        listed = ", ".join(f"{n} in '{state}'" for state, n in sorted(stranded.items()))
        raise BusinessError(StrandingErrorCode.STRANDED_ENTITIES,
                            f"source: state_machine/{draft.name} would strand live entities ({listed}); add "
                            f"'moves: {{{', '.join(f'{s}: <state>' for s in sorted(stranded))}}}' to say where they go",
                            field="source", stranded=stranded)
    now = utcnow()
    for binding in _bound(draft.name):
        for state in sorted(counts):
            target = draft.moves[state]
            ids = select(binding.id_column).where(binding.table.c[STATE] == state)
            session.execute(insert(StateTransition).from_select(
                ["machine", "entity_type", "entity_id", "transition", "from_state", "to_state", "actor", "revision",
                 "at", "context"],
                select(literal(draft.name), literal(binding.entity_type), cast(binding.id_column, String),
                       literal(TRANSITION), literal(state), literal(target), literal(ACTOR), literal(revision),
                       literal(now, StateTransition.__table__.c.at.type),
                       literal({}, StateTransition.__table__.c.context.type))
                .where(binding.id_column.in_(ids))))
            session.execute(update(binding.table).where(binding.table.c[STATE] == state)
                            .values({STATE: target, ENTERED_AT: now}))
    return counts
