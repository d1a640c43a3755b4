"""Predicate conditions: durable_rules' JSON condition language, checked against a fact schema and
parsed into a small tree (compiled by :mod:`rules.predicates`).

Canonical forms (durable_rules): ``{field: value}`` (equality), ``{$lt|$lte|$gt|$gte|$neq:
{field: value}}``, ``{$ex|$nex: {field: 1}}``, ``{$mt: {field: regex}}``, ``{$and|$or: [...]}``;
several keys in one mapping all have to hold. Friendly aliases map one-to-one: ``{field: {lt: 20}}``
(also ``lte gt gte eq neq``), ``{field: {in: [a, b]}}`` (``$or`` of equalities), ``{field: {exists:
true|false}}`` (``$ex``/``$nex``), ``{field: {matches: regex}}`` (``$mt``). Vectis adds ``{$fn:
name}``, a named predicate function from the environment. Paths are dotted (``price.amount``).
Every test but ``$nex`` fails on a missing field; ``$mt`` must match the whole string.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rules.facts import ANY, BOOLEAN, NUMBER, STRING, UnknownField
from rules.suggestions import hint
from rules.yamlsource import pointer_join

Test = Callable[[Any], bool]
_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_SYMBOLS = {"$eq": "==", "$neq": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
GROUPS = ("$and", "$or")
FIELD_OPERATORS = ("$lt", "$lte", "$gt", "$gte", "$neq", "$ex", "$nex", "$mt")
OPERATORS = (*GROUPS, *FIELD_OPERATORS, "$fn")
ALIASES = {"eq": "$eq", "neq": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte",
           "in": "in", "exists": "exists", "matches": "$mt"}


class Report(Protocol):
    def __call__(self, pointer: str, message: str, hint: str | None = None, *,
                 key: bool = False) -> None: ...


# -- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class All:
    items: tuple
    pointer: str


@dataclass(frozen=True)
class AnyOf:
    items: tuple
    pointer: str


@dataclass(frozen=True)
class Compare:
    op: str  # $eq $neq $lt $lte $gt $gte
    path: tuple[str, ...]
    value: Any
    pointer: str
    field_pointer: str


@dataclass(frozen=True)
class Exists:
    path: tuple[str, ...]
    present: bool
    pointer: str
    field_pointer: str


@dataclass(frozen=True)
class Matches:
    path: tuple[str, ...]
    pattern: str
    pointer: str
    field_pointer: str


@dataclass(frozen=True)
class Call:
    name: str
    pointer: str


Node = All | AnyOf | Compare | Exists | Matches | Call


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


# -- parsing ---------------------------------------------------------------------------------


def parse(data: Any, pointer: str, report: Report) -> Node | None:
    """The tree for a predicate mapping; structural problems are reported, ``None`` returned."""
    if not isinstance(data, dict) or not data:
        report(pointer, "a condition must be a non-empty mapping")
        return None
    items = []
    for key, value in data.items():
        here = pointer_join(pointer, key)
        if key in GROUPS:
            items.append(_group(key, value, here, report))
        elif key == "$fn":
            items.append(Call(value, here) if isinstance(value, str) and value
                         else report(here, "$fn needs the name of a predicate function"))
        elif key in FIELD_OPERATORS:
            items.extend(_canonical(key, value, here, report))
        elif key.startswith("$"):
            report(here, f"unknown operator {key!r}", hint(key, OPERATORS), key=True)
        elif isinstance(value, dict):
            items.extend(_friendly(key, value, here, report))
        else:
            items.append(_compare("$eq", key, value, here, here, report))
    items = [item for item in items if item is not None]  # check what did parse, too
    if not items:
        return None
    return items[0] if len(items) == 1 else All(tuple(items), pointer)


def _group(key: str, value: Any, pointer: str, report: Report) -> Node | None:
    if not isinstance(value, list) or not value:
        report(pointer, f"{key} needs a non-empty list of conditions")
        return None
    items = [parse(item, pointer_join(pointer, i), report) for i, item in enumerate(value)]
    items = [item for item in items if item is not None]
    if not items:
        return None
    return (All if key == "$and" else AnyOf)(tuple(items), pointer)


def _canonical(op: str, value: Any, pointer: str, report: Report) -> list[Node | None]:
    if not isinstance(value, dict) or not value:
        report(pointer, f"{op} needs a mapping of field: value")
        return [None]
    result: list[Node | None] = []
    for name, operand in value.items():
        here = pointer_join(pointer, name)
        if op in ("$ex", "$nex"):
            path = _path(name, here, report)
            result.append(path and Exists(path, op == "$ex", here, here))
        elif op == "$mt":
            result.append(_matches(name, operand, here, here, report))
        else:
            result.append(_compare(op, name, operand, here, here, report))
    return result


def _friendly(name: str, ops: dict, pointer: str, report: Report) -> list[Node | None]:
    if not ops:
        report(pointer, f"no operator given for field {name!r}")
        return [None]
    result: list[Node | None] = []
    for alias, operand in ops.items():
        here = pointer_join(pointer, alias)
        op = ALIASES.get(alias, alias if alias in FIELD_OPERATORS else None)
        if op is None:
            report(here, f"unknown operator {alias!r}", hint(alias, ALIASES), key=True)
            result.append(None)
        elif op == "in":
            result.append(_in(name, operand, here, pointer, report))
        elif op in ("exists", "$ex", "$nex"):
            if op == "exists" and not isinstance(operand, bool):
                report(here, "exists takes true or false")
                result.append(None)
                continue
            present = operand if op == "exists" else op == "$ex"
            path = _path(name, pointer, report)
            result.append(path and Exists(path, present, here, pointer))
        elif op == "$mt":
            result.append(_matches(name, operand, here, pointer, report))
        else:
            result.append(_compare(op, name, operand, here, pointer, report))
    return result


def _in(name: str, operand: Any, pointer: str, field_pointer: str, report: Report):
    if not isinstance(operand, list) or not operand:
        report(pointer, "in needs a non-empty list of values")
        return None
    items = [_compare("$eq", name, value, pointer_join(pointer, i), field_pointer, report)
             for i, value in enumerate(operand)]
    if any(item is None for item in items):
        return None
    return items[0] if len(items) == 1 else AnyOf(tuple(items), pointer)


def _path(name: str, pointer: str, report: Report) -> tuple[str, ...] | None:
    parts = tuple(name.split("."))
    if not all(parts):
        report(pointer, f"invalid field path {name!r}", key=True)
        return None
    return parts


def _compare(op, name, value, pointer, field_pointer, report) -> Compare | None:
    path = _path(name, field_pointer, report)
    if path is None:
        return None
    if value is None:
        report(pointer, f"cannot compare {name!r} with null", "use exists: false")
        return None
    if isinstance(value, (dict, list)):
        report(pointer, f"expected a single value to compare {name!r} with")
        return None
    if op in _ORDER and (isinstance(value, bool) or not isinstance(value, (int, float))):
        report(pointer, f"{op} needs a number, got {value!r}")
        return None
    return Compare(op, path, value, pointer, field_pointer)


def _matches(name, pattern, pointer, field_pointer, report) -> Matches | None:
    path = _path(name, field_pointer, report)
    if path is None:
        return None
    if not isinstance(pattern, str):
        report(pointer, f"$mt needs a regular expression, got {pattern!r}")
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        report(pointer, f"invalid regular expression {pattern!r}: {exc.msg} at position {exc.pos}")
        return None
    return Matches(path, pattern, pointer, field_pointer)


# -- type checking -----------------------------------------------------------------------------


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    return NUMBER if isinstance(value, (int, float)) else STRING


def check(node: Node, fact: str | None, env: Any, report: Report) -> None:
    """Report fields unknown to ``fact`` and operators that do not suit a field's type."""
    if isinstance(node, (All, AnyOf)):
        for item in node.items:
            check(item, fact, env, report)
        return
    if isinstance(node, Call):
        if node.name not in env.predicate_functions:
            report(node.pointer, f"unknown predicate function {node.name!r}",
                   hint(node.name, env.predicate_functions))
        return
    if fact is None:
        return
    try:
        spec = env.facts.field(fact, node.path)
    except UnknownField as exc:
        report(node.field_pointer, exc.message, exc.hint, key=True)
        return
    if ANY in spec.types:
        return
    name = dotted(node.path)
    types = " or ".join(sorted(spec.types))
    if isinstance(node, Matches) and STRING not in spec.types:
        report(node.pointer, f"$mt matches strings, but {name!r} is a {types} field of {fact}")
    elif isinstance(node, Compare) and node.op in _ORDER and NUMBER not in spec.types:
        report(node.pointer, f"{node.op} compares numbers, but {name!r} is a {types} field of {fact}")
    elif isinstance(node, Compare) and _value_type(node.value) not in spec.types:
        report(node.pointer, f"{name!r} is a {types} field of {fact}; {node.value!r} is a "
                             f"{_value_type(node.value)}")
    elif isinstance(node, Compare) and spec.enum is not None and node.value not in spec.enum:
        allowed = ", ".join(repr(choice) for choice in spec.enum)
        report(node.pointer, f"{node.value!r} is not a value of {name!r} (one of {allowed})",
               hint(str(node.value), [str(choice) for choice in spec.enum]))
