"""The ``automation`` kind: event rules compiled to a durable_rules ruleset (a plain dict).

Validation never hands a ruleset to durable_rules: some malformed or oversized rulesets hang or
crash the process (``notes/durable_rules.md``), so :func:`ruleset_problems` checks the structure
and the limits here. ``within`` and ``correlate_by`` are for the runtime: it keeps one durable
session per correlation value and drops events older than the window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rules.conditions import Call, Exists
from rules.durations import parse_duration
from rules.environment import Environment
from rules.facts import UnknownField
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import compile_predicate, leaves
from rules.suggestions import hint

#: The fact an automation's conditions read.
FACT = "event"
#: durable_rules limits (measured; see notes/durable_rules.md). Past them it errors, hangs or crashes.
MAX_CONDITIONS_PER_RULE = 64
MAX_RULES_PER_RULESET = 4096
MAX_RULES_SHARING_A_CONDITION = 255
MAX_NEX_PER_NODE = 127
MAX_BRANCHES_AT_ONE_POINT = 511
_OPERATORS = {"$and", "$or", "$lt", "$lte", "$gt", "$gte", "$neq", "$ex", "$nex", "$mt"}


@dataclass(frozen=True)
class Automation:
    name: str
    ruleset: dict[str, Any]
    actions: tuple[str, ...]
    count: int = 1
    within: timedelta | None = None
    correlate_by: str | None = None

    @property
    def ruleset_name(self) -> str:
        return next(iter(self.ruleset))


def compile_automation(doc: ParsedDefinition, env: Environment) -> Automation | None:
    on = doc.data["on"]
    modes = [mode for mode in ("all", "any") if mode in on]
    if len(modes) != 1:
        doc.report("/on", "'on' needs exactly one of 'all' or 'any'", key=True)
        return None
    mode = modes[0]
    conditions = [_condition(doc, env, mode, index, item) for index, item in enumerate(on[mode])]
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
    rule: dict[str, Any] = {mode: conditions, "run": doc.name}
    if on.get("count", 1) > 1:
        rule["count"] = on["count"]
    ruleset = {doc.name: {doc.name: rule}}
    for problem in ruleset_problems(ruleset):
        doc.report("/on", problem, key=True)
    if doc.errors:
        return None
    return Automation(doc.name, ruleset, tuple(doc.data["do"]), on.get("count", 1), within,
                      correlate_by)


def _condition(doc, env, mode, index, item) -> dict[str, Any] | None:
    (alias, body), = item.items()
    here = f"/on/{mode}/{index}/{alias}"
    predicate = compile_predicate(body, here, fact=FACT, env=env, report=doc.report)
    if predicate is None:
        return None
    tests = leaves(predicate.root)
    for call in (leaf for leaf in tests if isinstance(leaf, Call)):
        doc.report(call.pointer, f"predicate function {call.name!r} cannot be used in an "
                   "automation; durable_rules evaluates only the condition language", key=True)
    if all(isinstance(leaf, Exists) and not leaf.present for leaf in tests):
        doc.report(here, "a condition made only of missing-field tests matches durable_rules' "
                   "own session record and fires without end",
                   "add a test every event has, e.g. 'type: refund.requested'", key=True)
    if any(isinstance(leaf, Call) for leaf in tests):
        return None
    return {alias: predicate.to_durable()}


def _within(doc, text) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        doc.report("/on/within", str(exc))
        return None


def ruleset_problems(ruleset: Any) -> list[str]:
    """Structural problems and limit breaches of a durable_rules ruleset dict (``[]`` if fine)."""
    if not isinstance(ruleset, dict) or len(ruleset) != 1:
        return ["a ruleset is a mapping with exactly one ruleset name"]
    (rules,) = ruleset.values()
    if not isinstance(rules, dict) or not rules:
        return ["a ruleset needs at least one rule"]
    problems = []
    if len(rules) > MAX_RULES_PER_RULESET:
        problems.append(f"{len(rules)} rules; durable_rules allows {MAX_RULES_PER_RULESET}")
    first_conditions: Counter = Counter()
    for name, rule in rules.items():
        problems.extend(f"rule {name!r}: {p}" for p in _rule_problems(rule, first_conditions))
    shared = [c for c, n in first_conditions.items() if n > MAX_RULES_SHARING_A_CONDITION]
    if shared:
        problems.append(f"more than {MAX_RULES_SHARING_A_CONDITION} rules share one condition")
    if len(first_conditions) > MAX_BRANCHES_AT_ONE_POINT:
        problems.append(f"{len(first_conditions)} different first conditions; durable_rules "
                        f"handles at most {MAX_BRANCHES_AT_ONE_POINT}")
    return problems


def _rule_problems(rule: Any, first_conditions: Counter) -> list[str]:
    if not isinstance(rule, dict):
        return ["a rule is a mapping"]
    modes = [mode for mode in ("all", "any") if mode in rule]
    if len(modes) != 1:
        return ["a rule needs exactly one of 'all' or 'any'"]
    conditions = rule[modes[0]]
    if not isinstance(conditions, list) or not conditions:
        return ["a rule needs a non-empty list of conditions"]
    problems = []
    if len(conditions) > MAX_CONDITIONS_PER_RULE:
        problems.append(f"{len(conditions)} conditions; durable_rules allows "
                        f"{MAX_CONDITIONS_PER_RULE}")
    for condition in conditions:
        if not isinstance(condition, dict) or len(condition) != 1:
            problems.append("each condition is a mapping of one alias to an expression")
            continue
        (expression,) = condition.values()
        problems.extend(_expression_problems(expression))
    if not problems:
        first_conditions[repr(conditions[0])] += 1
    count = rule.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        problems.append("count must be a positive integer")
    return problems


def _expression_problems(expression: Any) -> list[str]:
    if not isinstance(expression, dict) or not expression:
        return ["an expression is a non-empty mapping"]
    problems = []
    for key, value in expression.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                problems.append(f"{key} needs a non-empty list")
                continue
            nex = sum(1 for item in value if isinstance(item, dict) and "$nex" in item)
            if nex > MAX_NEX_PER_NODE:
                problems.append(f"{nex} $nex tests under one node; durable_rules allows "
                                f"{MAX_NEX_PER_NODE}")
            for item in value:
                problems.extend(_expression_problems(item))
        elif key.startswith("$") and key not in _OPERATORS:
            problems.append(f"unknown operator {key!r}")
        elif key.startswith("$") and (not isinstance(value, dict) or len(value) != 1):
            problems.append(f"{key} needs a mapping of one field to a value")
    return problems


register_kind(KindSpec("automation", compile_automation, None, label="Automation"))
