"""The one timer sweep: every live machine, every bound table, every timed state, set-based.

For each (machine, bound model, timed state) it moves expired rows in batches, each batch one
``SELECT … LIMIT n FOR UPDATE SKIP LOCKED`` then ``UPDATE … WHERE id IN (…) AND state = :s RETURNING id``,
then writes their history rows with one executemany and hands the moved ids to the
transition's effects in one call. A row fired meanwhile no longer has the timed state (or is
locked and skipped), so it is never moved twice; running the sweep again, or late, is harmless.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection
from datetime import datetime

from flask import Flask, current_app
from rules.state_machine import StateMachine, Timer
from sqlalchemy import insert, select, update
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.definitions.live import LiveDefinition, live_definitions
from runtime.state_machines.bindings import ENTERED_AT, STATE, Binding, bindings
from runtime.state_machines.effects import EffectCall, run_effects
from runtime.state_machines.models import StateTransition
from runtime.state_machines.service import KIND, TIMER

log = logging.getLogger(__name__)

SWEEP_BATCH_SIZE = 10_000
"""Rows moved per transaction: large enough to be set-based, small enough to keep locks short."""

SWEEP_INTERVAL_SECONDS = 60
"""How often the periodic job runs; a timed state is left at most this long after it expires."""


#: ``app.extensions`` key: machines a domain's own periodic job sweeps (the generic job skips them).
OWN_SWEEPS = "vectis.state_machines.own_sweeps"


def sweep_separately(app: Flask, *machines: str) -> None:
    """Declare that a domain job sweeps ``machines`` (``sweep_timers(machines=...)``) on its own
    schedule, so the generic ``state_machine_timers`` job leaves them alone."""
    app.extensions.setdefault(OWN_SWEEPS, set()).update(machines)


def sweep_timers(app: Flask | None = None, now: datetime | None = None,
                 batch_size: int = SWEEP_BATCH_SIZE, machines: Collection[str] | None = None,
                 exclude: Collection[str] = ()) -> Counter:
    """Expire every timed-out entity (of ``machines`` only, when given: a domain's own periodic
    job; never of ``exclude``); returns moved counts by ``(machine, entity_type, state)``."""
    app = app or current_app
    now = now or utcnow()
    database = app.extensions["vectis.db"]
    moved: Counter = Counter()
    for live in live_definitions(app).all(KIND):
        if (machines is not None and live.name not in machines) or live.name in exclude:
            continue
        machine: StateMachine = live.compiled
        for binding in bindings(app).for_machine(machine.name):
            for timer in machine.timers:
                key = (machine.name, binding.entity_type, timer.state)
                while True:
                    count = database.run(
                        lambda s: _expire_batch(s, app, live, binding, timer, now, batch_size))
                    if count:
                        moved[key] += count
                    if count < batch_size:
                        break
    if moved:
        log.info("state machine timers: moved %s", dict(moved))
    return moved


def sweep_state_machine_timers() -> None:
    """The periodic job (``core.periodic_job.state_machine_timers``): every machine but those a
    domain sweeps itself (:func:`sweep_separately`)."""
    sweep_timers(current_app, exclude=current_app.extensions.get(OWN_SWEEPS, ()))


def _expire_batch(session: Session, app: Flask, live: LiveDefinition, binding: Binding,
                  timer: Timer, now: datetime, batch_size: int) -> int:
    machine: StateMachine = live.compiled
    transition = machine.transitions[timer.transition]
    table, id_column = binding.table, binding.id_column
    due = (select(id_column)
           .where(table.c[STATE] == timer.state, table.c[ENTERED_AT] <= now - timer.after)
           .limit(batch_size)
           .with_for_update(skip_locked=True))  # rendered on PostgreSQL; SQLite has one writer
    # The due ids are read first: PostgreSQL may run a LIMIT … SKIP LOCKED subquery inside the
    # UPDATE more than once, each time locking other rows, and so move more than a batch.
    locked = session.execute(due).scalars().all()
    if not locked:
        return 0
    ids = session.execute(
        update(table)
        .where(id_column.in_(locked), table.c[STATE] == timer.state)
        .values({STATE: transition.target, ENTERED_AT: now})
        .returning(id_column)
    ).scalars().all()
    if not ids:
        return 0
    entity_ids = tuple(str(i) for i in ids)
    common = dict(machine=machine.name, entity_type=binding.entity_type,
                  transition=transition.name, from_state=timer.state, to_state=transition.target,
                  actor=TIMER.label, revision=live.revision, at=now, context={})
    session.execute(insert(StateTransition.__table__),
                    [{**common, "entity_id": entity_id} for entity_id in entity_ids])
    call = EffectCall(machine.name, binding.entity_type, entity_ids, transition.name, timer.state,
                      transition.target, TIMER.label, live.revision)
    run_effects(session, app.extensions["vectis.registry"], transition.effects, call)
    return len(ids)
