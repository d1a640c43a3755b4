"""``state_machine``: the diagram, how many live entities sit in each state of the models bound to
the machine, and the states the draft would strand (held by entities, gone from the draft)."""
from __future__ import annotations

from typing import Any

from rules.state_machine import StateMachine
from sqlalchemy import func, select

from admin_ui.diagram import render
from runtime.state_machines.bindings import STATE, bindings


def live_counts(app, session, machine: str) -> dict[str, int]:
    """Entities per state over every model bound to ``machine`` (one GROUP BY per model)."""
    counts: dict[str, int] = {}
    for binding in bindings(app).for_machine(machine):
        column = binding.table.c[STATE]
        for state, count in session.execute(select(column, func.count()).group_by(column)):
            counts[state] = counts.get(state, 0) + count
    return counts


def preview(app, session, draft: StateMachine, live: StateMachine | None, form) -> dict[str, Any]:
    counts = live_counts(app, session, draft.name)
    stranded = {state: n for state, n in counts.items() if n and state not in draft.states}
    return {"svg": render(draft, counts), "counts": counts, "stranded": stranded,
            "bound": [b.entity_type for b in bindings(app).for_machine(draft.name)],
            "timers": [(t.state, t.transition, t.text) for t in draft.timers],
            "guards": sorted(t.name for t in draft.transitions.values() if t.guard is not None),
            "removed": sorted(set(live.states) - set(draft.states)) if live is not None else []}
