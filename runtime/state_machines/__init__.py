"""State machines in the runtime: entities bound to machines, firing transitions, effects, timers.

See ``docs/state_machines.md``. The public API::

    bind(app, Model, machine="reservation")            # at start-up
    available_transitions(session, entity, actor, context)
    fire(session, entity, "confirm", actor, context)   # inside the caller's transaction
    Effect(func, in_transaction=False)                  # the value of an effect_action entry
"""
from __future__ import annotations

from flask import Flask

from runtime.definitions.store import PUBLISH_HOOKS
from runtime.state_machines.bindings import Binding, bind, bindings
from runtime.state_machines.effects import Effect, EffectCall
from runtime.state_machines.service import (
    TIMER,
    Fired,
    Option,
    StateMachineErrorCode,
    SystemActor,
    available_transitions,
    fire,
    history,
    run_moving,
)
from runtime.state_machines.stranding import on_publish

__all__ = [
    "TIMER", "Binding", "Effect", "EffectCall", "Fired", "Option", "StateMachineErrorCode",
    "SystemActor", "available_transitions", "bind", "bindings", "fire", "history", "init_app", "run_moving",
]


def init_app(app: Flask) -> None:
    """Keep the bindings in ``app.extensions`` and register the one timer sweep."""
    from runtime.jobs import register_periodic_job
    from runtime.state_machines.sweep import SWEEP_INTERVAL_SECONDS, sweep_state_machine_timers

    bindings(app)
    app.extensions.setdefault(PUBLISH_HOOKS, []).append(on_publish)  # the stranded-entity rule
    register_periodic_job(app.extensions["vectis.registry"], "state_machine_timers",
                          sweep_state_machine_timers, interval=SWEEP_INTERVAL_SECONDS,
                          description="Move entities whose timed state expired (every machine)")
