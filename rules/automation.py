"""The ``automation`` kind: event rules compiled to a durable_rules ruleset (a plain dict).

An automation names its events with aliases (``- first: {type: refund.requested}``), matched
as a sequence (``all``) or as alternatives (``any``); a later event may refer to an earlier
one's fields (:mod:`rules.automation_references`); ``<alias>$not`` is durable_rules' absence;
``count`` repeats a single condition; ``within`` and ``correlate_by`` are applied by the
consumer (:mod:`rules.automation_engine`), which replays one correlation value's in-window
events into a fresh durable_rules session.

Validation never hands a ruleset to durable_rules: some malformed or oversized rulesets hang or
crash the process, so :mod:`rules.automation_limits` checks the dict first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rules.automation_limits import fact_problems, ruleset_problems
from rules.automation_references import Reference, check_reference, split_references
from rules.conditions import All, AnyOf, Call, Compare, Exists
from rules.durations import parse_duration
from rules.environment import Environment
from rules.facts import UnknownField
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import compile_predicate, leaves
from rules.suggestions import hint

#: The fact an automation's conditions read.
FACT = "event"
#: The suffix durable_rules gives an alias whose event must be absent.
ABSENT = "$not"


@dataclass(frozen=True)
class Automation:
    name: str
    ruleset: dict[str, Any]
    actions: tuple[str, ...]
    count: int = 1
    within: timedelta | None = None
    correlate_by: str | None = None
    #: Event types any condition can match (``None``: a condition does not pin ``type``).
    event_types: frozenset[str] | None = None
    #: The dotted event fields durable_rules reads; events are projected onto them.
    fields: tuple[str, ...] = ()

    @property
    def ruleset_name(self) -> str:
        return next(iter(self.ruleset))

    @property
    def rule(self) -> dict[str, Any]:
        (rules,) = self.ruleset.values()
        (rule,) = rules.values()
        return rule

    def may_match(self, event_type: Any) -> bool:
        return self.event_types is None or event_type in self.event_types


@dataclass(frozen=True)
class _Item:
    alias: str
    absent: bool
    pointer: str
    body: Any


def compile_automation(doc: ParsedDefinition, env: Environment) -> Automation | None:
    on = doc.data["on"]
    modes = [mode for mode in ("all", "any") if mode in on]
    if len(modes) != 1:
        doc.report("/on", "'on' needs exactly one of 'all' or 'any'", key=True)
        return None
    mode = modes[0]
    items = _items(doc, mode, on[mode])
    _check_shape(doc, mode, items, on.get("count", 1))
    compiled = [_condition(doc, env, mode, items, index) for index in range(len(items))]
    within = _within(doc, on.get("within"))
    correlate_by = on.get("correlate_by")
    if correlate_by is not None:
        try:
            env.facts.field(FACT, tuple(correlate_by.split(".")))
        except UnknownField as exc:
            doc.report("/on/correlate_by", exc.message, exc.hint)
    for index, action in enumerate(doc.data["do"]):
        if action not in env.effects:
            doc.report(f"/do/{index}", f"unknown effect action {action!r}", hint(action, env.effects))
    if doc.errors:
        return None
    conditions = [condition for condition, _, _ in compiled]
    fields = tuple(sorted({name for _, names, _ in compiled for name in names}))
    types = [pinned for _, _, pinned in compiled]
    rule: dict[str, Any] = {mode: conditions, "run": doc.name}
    if on.get("count", 1) > 1:
        rule["count"] = on["count"]
    ruleset = {doc.name: {doc.name: rule}}
    for problem in ruleset_problems(ruleset) + fact_problems(fields):
        doc.report("/on", problem, key=True)
    if doc.errors:
        return None
    event_types = None if None in types else frozenset().union(*types)
    return Automation(doc.name, ruleset, tuple(doc.data["do"]), on.get("count", 1), within,
                      correlate_by, event_types, fields)


def _items(doc: ParsedDefinition, mode: str, entries: list[dict]) -> list[_Item]:
    items, seen = [], set()
    for index, entry in enumerate(entries):
        (key, body), = entry.items()
        alias, absent = (key[: -len(ABSENT)], True) if key.endswith(ABSENT) else (key, False)
        pointer = f"/on/{mode}/{index}/{key}"
        if alias in seen:
            doc.report(pointer, f"alias {alias!r} is used twice; each event needs its own alias",
                       key=True)
        seen.add(alias)
        items.append(_Item(alias, absent, pointer, body))
    return items


def _check_shape(doc: ParsedDefinition, mode: str, items: list[_Item], count: int) -> None:
    """Absences come last in a sequence; ``count`` repeats exactly one condition."""
    present = [item for item in items if not item.absent]
    for index, item in enumerate(items):
        if not item.absent:
            continue
        if mode == "any":
            doc.report(item.pointer, "an absence ($not) needs 'all': it is checked when the "
                       "events before it have matched", key=True)
        elif not present:
            doc.report(item.pointer, "an absence ($not) needs an event condition before it",
                       key=True)
        elif any(not later.absent for later in items[index + 1:]):
            doc.report(item.pointer, "an absence ($not) must come after every event condition; "
                       "durable_rules does not block on one in the middle of a sequence", key=True)
    if count > 1 and (len(items) != 1 or mode != "all"):
        doc.report("/on/count", "count repeats exactly one event condition under 'all' "
                   "(durable_rules reuses events across counted sequences)",
                   "to count several event types use one condition with 'type: {in: [...]}'")


def _condition(doc, env, mode, items, index) -> tuple[dict | None, set[str], frozenset | None]:
    """(durable JSON ``{alias: expression}``, the fields it reads, the event types it pins)."""
    item = items[index]
    if not isinstance(item.body, dict) or not item.body:
        doc.report(item.pointer, "a condition must be a non-empty mapping")
        return None, set(), None
    body, references = split_references(item.body, item.pointer)
    _check_references(doc, env, mode, items, index, references)
    parts = [ref.to_durable() for ref in references]
    fields = {name for ref in references for name in (ref.field, ref.other)}
    pinned = None
    if body:
        predicate = compile_predicate(body, item.pointer, fact=FACT, env=env, report=doc.report)
        if predicate is None:
            return None, set(), None
        tests = leaves(predicate.root)
        for call in (leaf for leaf in tests if isinstance(leaf, Call)):
            doc.report(call.pointer, f"predicate function {call.name!r} cannot be used in an "
                       "automation; durable_rules evaluates only the condition language", key=True)
        if not references and all(isinstance(leaf, Exists) and not leaf.present for leaf in tests):
            doc.report(item.pointer, "a condition made only of missing-field tests matches "
                       "durable_rules' own session record and fires without end",
                       "add a test every event has, e.g. 'type: refund.requested'", key=True)
        if any(isinstance(leaf, Call) for leaf in tests):
            return None, set(), None
        parts.insert(0, predicate.to_durable())
        fields |= predicate.fields
        pinned = _pinned_types(predicate.root)
    expression = parts[0] if len(parts) == 1 else {"$and": parts}
    key = item.alias + ABSENT if item.absent else item.alias
    return {key: expression}, fields, pinned


def _check_references(doc, env, mode, items, index, references: list[Reference]) -> None:
    if references and mode == "any":
        doc.report(references[0].pointer, "a reference to another event needs 'all': under "
                   "'any' one event matches alone", key=True)
        return
    earlier = [item.alias for item in items[:index] if not item.absent]
    later = [item.alias for item in items[index:] if not item.absent]
    absent = {item.alias for item in items if item.absent}
    for ref in references:
        check_reference(ref, earlier, later, absent, env, FACT, doc.report)


def _pinned_types(node) -> frozenset[str] | None:
    """The ``type`` values a condition requires (``None`` when it matches any type)."""
    if isinstance(node, Compare):
        pinned = node.op == "$eq" and node.path == ("type",) and isinstance(node.value, str)
        return frozenset({node.value}) if pinned else None
    if isinstance(node, All):
        found = [types for types in map(_pinned_types, node.items) if types is not None]
        return frozenset.intersection(*found) if found else None
    if isinstance(node, AnyOf):
        found = [_pinned_types(item) for item in node.items]
        return None if None in found else frozenset().union(*found)
    return None


def _within(doc, text) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        doc.report("/on/within", str(exc))
        return None


def _run_examples(automation: Automation, examples: list[dict], env: Environment):
    from rules.automation_examples import run_examples

    return run_examples(automation, examples, env)


register_kind(KindSpec("automation", compile_automation, _run_examples, label="Automation"))
