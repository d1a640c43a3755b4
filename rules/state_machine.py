"""The ``state_machine`` kind: states, transitions, guards, permissions, effects and timers.

Compiles to a frozen :class:`StateMachine` (a transition table) whose methods are pure: asking
whether a transition can fire returns its blockers (a code and a message each), firing returns
the target state. Effects are names only; the runtime runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum
from typing import Any

from rules.durations import parse_duration
from rules.environment import Environment
from rules.errors import AuthorError
from rules.facts import UNKNOWN_KEY, FactCatalog, unknown_given_fields
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Predicate, compile_predicate
from rules.suggestions import hint
from rules.yamlsource import pointer_join


class BlockerCode(str, Enum):
    UNKNOWN_TRANSITION = "UNKNOWN_TRANSITION"
    UNKNOWN_STATE = "UNKNOWN_STATE"
    NOT_FROM_STATE = "NOT_FROM_STATE"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    GUARD_FAILED = "GUARD_FAILED"
    INVALID_CONTEXT = "INVALID_CONTEXT"

#: Types a machine's declared ``context`` fields may have, with the Python values each accepts.
CONTEXT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}


@dataclass(frozen=True)
class Blocker:
    """Why a transition cannot fire, for users (a run-time refusal, not an author error)."""

    code: BlockerCode
    message: str
    parameters: tuple[tuple[str, Any], ...] = ()


class TransitionBlocked(Exception):
    def __init__(self, transition: str, blockers: list[Blocker]):
        self.transition = transition
        self.blockers = blockers
        super().__init__("; ".join(f"{b.code.value}: {b.message}" for b in blockers))


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    guard: Predicate | None = None
    permission: str | None = None
    effects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timer:
    """``state`` expires through ``transition`` once it has been held for ``after``."""

    state: str
    after: timedelta
    transition: str
    text: str = ""


@dataclass(frozen=True)
class StateMachine:
    name: str
    initial: str
    states: tuple[str, ...]
    finals: frozenset[str]
    transitions: dict[str, Transition] = field(compare=False)
    timers: tuple[Timer, ...] = ()
    entity: str | None = None
    #: Declared context fields (name → type name of :data:`CONTEXT_TYPES`) guards may read.
    context: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: Removed state → the state its live entities move to when this revision is published.
    moves: Mapping[str, str] = field(default_factory=dict, compare=False)

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if state in t.sources]

    def timer_for(self, state: str) -> Timer | None:
        return next((timer for timer in self.timers if timer.state == state), None)

    def options(
        self, state: str, entity_fact: dict | None = None, actor_permissions: Iterable[str] | None = (),
        context: dict | None = None,
    ) -> list[tuple[Transition, list[Blocker]]]:
        """Every transition leaving ``state``, each with its blockers (none: it can fire now)."""
        permissions = None if actor_permissions is None else frozenset(actor_permissions)
        return [(t, self.can_fire(state, t.name, entity_fact, permissions, context))
                for t in self.transitions_from(state)]

    def check_context(self, context: dict | None) -> list[Blocker]:
        """Blockers for context keys the machine does not declare or values of the wrong type."""
        blockers = []
        for key, value in (context or {}).items():
            declared = self.context.get(key)
            if declared is None:
                known = ", ".join(sorted(self.context)) or "none"
                blockers.append(Blocker(BlockerCode.INVALID_CONTEXT,
                                        f"context: unknown key {key!r} (declared: {known})",
                                        (("key", key),)))
            elif not isinstance(value, CONTEXT_TYPES[declared]) or (
                    isinstance(value, bool) and declared != "boolean"):
                blockers.append(Blocker(BlockerCode.INVALID_CONTEXT,
                                        f"context.{key}: expected a {declared}, "
                                        f"got {type(value).__name__}", (("key", key),)))
        return blockers

    def can_fire(
        self, state: str, transition: str, entity_fact: dict | None = None,
        actor_permissions: Iterable[str] | None = (), context: dict | None = None,
    ) -> list[Blocker]:
        """Every reason ``transition`` cannot fire from ``state``; empty when it can.

        ``actor_permissions=None`` means a system actor (timers, jobs): permissions are skipped.
        Guards read the entity's fields and ``context.<key>`` (the caller's declared context).
        """
        if state not in self.states:
            return [Blocker(BlockerCode.UNKNOWN_STATE, f"unknown state {state!r}",
                            (("state", state),))]
        found = self.transitions.get(transition)
        if found is None:
            return [Blocker(BlockerCode.UNKNOWN_TRANSITION, f"unknown transition {transition!r}",
                            (("transition", transition),))]
        invalid_context = self.check_context(context)
        blockers = list(invalid_context)
        if state not in found.sources:
            blockers.append(Blocker(
                BlockerCode.NOT_FROM_STATE,
                f"{transition!r} cannot fire from state {state!r}",
                (("state", state), ("from", found.sources))))
        if found.permission and actor_permissions is not None \
                and found.permission not in set(actor_permissions):
            blockers.append(Blocker(BlockerCode.PERMISSION_DENIED,
                                    f"needs permission {found.permission!r}",
                                    (("permission", found.permission),)))
        fact = {**(entity_fact or {}), "context": context or {}}
        if found.guard is not None and not invalid_context and not found.guard(fact):
            failed = [leaf.condition for leaf in found.guard.explain(fact).failures()]
            blockers.append(Blocker(BlockerCode.GUARD_FAILED,
                                    "guard failed: " + "; ".join(failed),
                                    (("failed", tuple(failed)),)))
        return blockers

    def fire(self, state: str, transition: str, entity_fact: dict | None = None,
             actor_permissions: Iterable[str] | None = (), context: dict | None = None) -> str:
        """The target state; :class:`TransitionBlocked` when the transition cannot fire."""
        blockers = self.can_fire(state, transition, entity_fact, actor_permissions, context)
        if blockers:
            raise TransitionBlocked(transition, blockers)
        return self.transitions[transition].target

    def to_mermaid(self) -> str:
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for transition in self.transitions.values():
            for source in transition.sources:
                lines.append(f"    {source} --> {transition.target}: {transition.name}")
        for timer in self.timers:
            lines.append(f"    note right of {timer.state}: {timer.transition} after {timer.text}")
        lines.extend(f"    {state} --> [*]" for state in self.states if state in self.finals)
        return "\n".join(lines) + "\n"


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def compile_state_machine(doc: ParsedDefinition, env: Environment) -> StateMachine | None:
    data = doc.data
    states = {name: (spec or {}) for name, spec in data["states"].items()}
    names = list(states)
    entity = data.get("entity")
    if entity is not None and entity not in env.facts.names:
        doc.report("/entity", f"unknown fact {entity!r}", hint(entity, env.facts.names))
        entity = None
    context = dict(data.get("context") or {})
    guard_env, guard_fact = _guard_fact(doc, env, entity, context)
    initials = [name for name, spec in states.items() if spec.get("initial")]
    finals = frozenset(name for name, spec in states.items() if spec.get("final"))
    if not initials:
        doc.report("/states", "no initial state; mark one state with 'initial: true'", key=True)
    for extra in initials[1:]:
        doc.report(f"/states/{extra}/initial",
                   f"more than one initial state: {initials[0]!r} and {extra!r}")
    transitions = {name: _transition(doc, guard_env, name, spec, names, finals, guard_fact)
                   for name, spec in data["transitions"].items()}
    timers = [_timer(doc, name, spec["timer"], transitions, finals, data["transitions"])
              for name, spec in states.items() if spec.get("timer")]
    dangling = any(t.target not in names or set(t.sources) - set(names)
                   for t in transitions.values())
    if len(initials) == 1 and not dangling:
        _check_reachable(doc, initials[0], names, transitions)
    moves = dict(data.get("moves") or {})
    for removed, target in moves.items():
        if removed in states:
            doc.report(f"/moves/{removed}", f"state {removed!r} is still a state of this machine; moves name "
                       "removed states only", key=True)
        if target not in states:
            doc.report(f"/moves/{removed}", f"unknown state {target!r}", hint(target, names))
    if doc.errors:
        return None
    return StateMachine(doc.name, initials[0], tuple(names), finals, transitions,
                        tuple(timers), entity, context, moves)


def _guard_fact(doc, env, entity, context) -> tuple[Environment, str | None]:
    """The fact guards type-check against: the entity's fields plus ``context.<declared key>``.

    Returns an environment whose catalog holds that merged schema, and its name (``None`` when the
    machine declares neither an entity nor a context, so guards have nothing to read).
    """
    if entity is None and "entity" in doc.data:
        return env, None  # the unknown entity is reported already; guards are not checked
    if entity is None and not context:
        return env, None
    base = env.facts.schemas[entity] if entity else _context_only(context)
    if "context" in base.get("properties", {}):
        doc.report("/entity", f"fact {entity!r} has its own field 'context', which hides the "
                   "machine's context in guards")
    context_schema = {"type": "object", "additionalProperties": False,
                      "properties": {key: {"type": kind} for key, kind in context.items()}}
    name = entity or "context"
    merged = {**base, "properties": {**base.get("properties", {}), "context": context_schema}}
    catalog = FactCatalog({**env.facts.schemas, name: merged})
    return replace(env, facts=catalog), name


def _context_only(context: Mapping[str, str]) -> dict:
    """The guard fact of a machine without ``entity``: nothing but ``context.<field>``."""
    declared = [f"context.{key}" for key in context]
    message = (f"this machine has no 'entity', so guards read only its context "
               f"({', '.join(declared)}); add 'entity: <fact>' (e.g. entity: order) to read an "
               f"entity's fields")
    return {"type": "object", "additionalProperties": False,
            UNKNOWN_KEY: {"message": message, "names": declared}}


def _transition(doc, env, name, spec, names, finals, entity) -> Transition:
    here = f"/transitions/{name}"
    sources = _as_list(spec["from"])
    for index, source in enumerate(sources):
        where = f"{here}/from" if isinstance(spec["from"], str) else f"{here}/from/{index}"
        if source not in names:
            doc.report(where, f"unknown state {source!r}", hint(source, names))
        elif source in finals:
            doc.report(where, f"final state {source!r} has an outgoing transition {name!r}")
    if spec["to"] not in names:
        doc.report(f"{here}/to", f"unknown state {spec['to']!r}", hint(spec["to"], names))
    for index, effect in enumerate(spec.get("effects", [])):
        if effect not in env.effects:
            doc.report(f"{here}/effects/{index}", f"unknown effect action {effect!r}",
                       hint(effect, env.effects))
    permission = spec.get("permission")
    if permission and env.permissions is not None and permission not in env.permissions:
        doc.report(f"{here}/permission", f"unknown permission {permission!r}",
                   hint(permission, env.permissions))
    guard = None
    if "guard" in spec:
        if entity is None and "entity" not in doc.data:
            doc.report(f"{here}/guard", "a guard needs 'entity' naming the fact it reads "
                       "(e.g. entity: order) or a declared 'context'", key=True)
        else:
            guard = compile_predicate(spec["guard"], f"{here}/guard", fact=entity, env=env,
                                      report=doc.report)
    return Transition(name, tuple(sources), spec["to"], guard, permission,
                      tuple(spec.get("effects", [])))


def _timer(doc, state, spec, transitions, finals, sources) -> Timer | None:
    here = f"/states/{state}/timer"
    try:
        after = parse_duration(spec["after"])
    except ValueError as exc:
        doc.report(f"{here}/after", str(exc))
        after = None
    name = spec["transition"]
    if state in finals:
        doc.report(here, f"final state {state!r} cannot have a timer", key=True)
    if name not in transitions:
        doc.report(f"{here}/transition", f"unknown transition {name!r}", hint(name, transitions))
    elif state not in transitions[name].sources:
        doc.report(f"{here}/transition",
                   f"timer transition {name!r} does not leave state {state!r}")
    elif "guard" in sources[name]:
        # The sweep moves every expired row with one UPDATE; it never loads rows to test guards.
        doc.report(f"{here}/transition",
                   f"timer transition {name!r} has a guard; the timer sweep moves expired "
                   "entities in bulk without evaluating guards, so a timer's transition "
                   "cannot have one")
    return Timer(state, after, name, spec["after"]) if after else None


def _check_reachable(doc, initial, names, transitions) -> None:
    seen, todo = {initial}, [initial]
    while todo:
        current = todo.pop()
        for transition in transitions.values():
            if current in transition.sources and transition.target not in seen:
                seen.add(transition.target)
                todo.append(transition.target)
    for name in names:
        if name not in seen:
            doc.report(f"/states/{name}", f"state {name!r} is unreachable from initial state "
                       f"{initial!r}", key=True)


def run_examples(machine: StateMachine, examples: list[dict], env: Environment) -> list[AuthorError]:
    errors = []
    codes = [code.value for code in BlockerCode]
    for index, example in enumerate(examples):
        here = f"/examples/{index}"
        given, fire, expect = example["given"], example["fire"], example["expect"]
        problems = []
        if given["state"] not in machine.states:
            problems.append((f"{here}/given/state", f"unknown state {given['state']!r}",
                             hint(given["state"], machine.states)))
        if fire not in machine.transitions:
            problems.append((f"{here}/fire", f"unknown transition {fire!r}",
                             hint(fire, machine.transitions)))
        if expect.get("state") and expect["state"] not in machine.states:
            problems.append((f"{here}/expect/state", f"unknown state {expect['state']!r}",
                             hint(expect["state"], machine.states)))
        for position, code in enumerate(expect.get("blocked", [])):
            if code not in codes:
                problems.append((pointer_join(here, "expect", "blocked", position),
                                 f"unknown blocker code {code!r}", hint(code, codes)))
        if machine.entity is not None:
            problems.extend(unknown_given_fields(env.facts, machine.entity, given.get("entity"),
                                                 f"{here}/given/entity"))
        if not problems:
            problems = _run_one(machine, here, given, fire, expect)
        errors.extend(AuthorError(message, pointer=pointer, hint=text)
                      for pointer, message, text in problems)
    return errors


def _run_one(machine, here, given, fire, expect) -> list[tuple]:
    blockers = machine.can_fire(given["state"], fire, given.get("entity", {}),
                                given.get("permissions", []), given.get("context"))
    got_codes = sorted(blocker.code.value for blocker in blockers)
    if blockers:
        outcome = "blocked " + ", ".join(f"{b.code.value} ({b.message})" for b in blockers)
    else:
        outcome = f"state {machine.transitions[fire].target!r}"
    if "state" in expect and (blockers or machine.transitions[fire].target != expect["state"]):
        return [(f"{here}/expect/state",
                 f"example failed: expected state {expect['state']!r}, got {outcome}", None)]
    if "blocked" in expect and got_codes != sorted(expect["blocked"]):
        wanted = ", ".join(sorted(expect["blocked"]))
        return [(f"{here}/expect/blocked",
                 f"example failed: expected blocked {wanted}, got {outcome}", None)]
    return []


register_kind(KindSpec("state_machine", compile_state_machine, run_examples,
                       label="State machine"))
