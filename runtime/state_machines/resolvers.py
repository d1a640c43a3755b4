"""GraphQL reads of the live state machines, for the admin UI and docs."""
from __future__ import annotations

from ariadne import QueryType
from rules.state_machine import StateMachine

from runtime.definitions.live import LiveDefinition, live_definitions
from runtime.graphql.context import context_of
from runtime.state_machines.bindings import bindings
from runtime.state_machines.service import KIND

query = QueryType()

READ = "definitions.read"


def describe(live: LiveDefinition, bound_to: list[str]) -> dict:
    machine: StateMachine = live.compiled
    data = live.definition.data
    states = {name: spec or {} for name, spec in data["states"].items()}
    return {
        "name": machine.name,
        "revision": live.revision,
        "description": data.get("description"),
        "entity": machine.entity,
        "context": dict(machine.context),
        "initial": machine.initial,
        "states": [{"name": name, "initial": name == machine.initial,
                    "final": name in machine.finals, "description": states[name].get("description")}
                   for name in machine.states],
        "transitions": [{"name": t.name, "from": list(t.sources), "to": t.target,
                         "permission": t.permission, "guard": data["transitions"][t.name].get("guard"),
                         "effects": list(t.effects),
                         "description": data["transitions"][t.name].get("description")}
                        for t in machine.transitions.values()],
        "timers": [{"state": t.state, "after": t.text, "transition": t.transition}
                   for t in machine.timers],
        "bound_to": bound_to,
        "mermaid": machine.to_mermaid(),
    }


def _machines(info, name: str | None = None) -> list[dict]:
    ctx = context_of(info)
    ctx.require(READ)
    found = live_definitions(ctx.app).all(KIND)
    binds = bindings(ctx.app)
    return [describe(live, sorted(b.entity_type for b in binds.for_machine(live.name)))
            for live in found if name is None or live.name == name]


@query.field("stateMachines")
def resolve_state_machines(_, info):
    return _machines(info)


@query.field("stateMachine")
def resolve_state_machine(_, info, name: str):
    found = _machines(info, name)
    return found[0] if found else None


bindables = [query]
