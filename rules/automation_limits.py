"""durable_rules' hard limits, checked on a ruleset dict before durable_rules ever sees it.

Past these limits durable_rules fails with an opaque error code, segfaults or never returns
(measured; see ``notes/durable_rules.md``), so nothing here calls it: :func:`ruleset_problems`
reads the dict. The constants are the largest values that still work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

#: Conditions of one rule that can match one fact at once (a 64-slot stack; 65 fails, 303).
MAX_CONDITIONS_PER_RULE = 64
#: Rules in one ruleset (4,097 fails to create, 106).
MAX_RULES_PER_RULESET = 4096
#: Rules sharing one identical first condition (256 creates, then segfaults on assert).
MAX_RULES_SHARING_A_CONDITION = 255
#: ``$nex`` tests under one node (128 creates, then segfaults on assert).
MAX_NEX_PER_NODE = 127
#: Different conditions at one point of the rule tree (512 hangs ``assert_fact``).
MAX_BRANCHES_AT_ONE_POINT = 511
#: Properties of one fact, nested keys included (253 fails with 302). The consumer sends
#: durable_rules only the fields an automation reads, plus ``id`` and ``sid``.
MAX_PROPERTIES_PER_FACT = 252
#: The properties every posted event carries besides the fields read: ``id`` and ``sid``.
POSTED_KEYS = ("id", "sid")
#: The operators durable_rules knows at an expression's top (a misspelt one fails with error 202).
OPERATORS = {"$and", "$or", "$lt", "$lte", "$gt", "$gte", "$neq", "$ex", "$nex", "$mt", "$imt",
             "$iany", "$iall"}


def properties_of(fields: Iterable[str]) -> int:
    """Properties of an event projected onto ``fields`` (dotted): every key at every level."""
    keys = {tuple(path.split("."))[: depth + 1] for path in fields
            for depth in range(len(path.split(".")))}
    return len(keys | {(key,) for key in POSTED_KEYS})


def fact_problems(fields: Iterable[str]) -> list[str]:
    """A problem when events projected onto ``fields`` would exceed durable's properties limit."""
    fields = list(fields)
    count = properties_of(fields)
    if count <= MAX_PROPERTIES_PER_FACT:
        return []
    return [f"reads {len(fields)} event fields, {count} properties per event with "
            f"{', '.join(POSTED_KEYS)}; durable_rules handles at most {MAX_PROPERTIES_PER_FACT}"]


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
        problems.append(f"{max(first_conditions.values())} rules share one condition; "
                        f"durable_rules allows {MAX_RULES_SHARING_A_CONDITION}")
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
        elif key.startswith("$") and key not in OPERATORS:
            problems.append(f"unknown operator {key!r}")
        elif key.startswith("$") and (not isinstance(value, dict) or len(value) != 1):
            problems.append(f"{key} needs a mapping of one field to a value")
    return problems
