"""Compiled predicates: closures over the condition tree, with explanations.

``compile_predicate`` parses and type-checks a condition (:mod:`rules.conditions`) and returns a
:class:`Predicate`: call it with a fact for a bool, :func:`explain` it for a tree saying which
condition held with which actual value, or turn it into durable_rules JSON with ``to_durable``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.conditions import (
    _ORDER, _SYMBOLS, All, AnyOf, Call, Exists, Matches, Node, Report, check, dotted,
    parse,
)
from rules.facts import MISSING, get_path

Test = Callable[[Any], bool]


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return actual == expected


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _leaf_test(node: Node, functions: Mapping[str, Any]) -> Test:
    if isinstance(node, Call):
        return lambda fact, name=node.name: bool(_function(functions, name)(fact))
    path = node.path
    if isinstance(node, Exists):
        present = node.present
        return lambda fact: (get_path(fact, path) is not MISSING) is present
    if isinstance(node, Matches):
        regex = re.compile(node.pattern)
        return lambda fact: isinstance(v := get_path(fact, path), str) and bool(regex.fullmatch(v))
    expected = node.value
    if node.op == "$eq":
        return lambda fact: _same(get_path(fact, path), expected)
    if node.op == "$neq":
        return lambda fact: (v := get_path(fact, path)) is not MISSING and not _same(v, expected)
    compare = _ORDER[node.op]
    return lambda fact: _is_number(v := get_path(fact, path)) and compare(v, expected)


def _function(functions: Mapping[str, Any], name: str) -> Callable[[Any], bool]:
    function = functions.get(name)
    if function is None:
        raise LookupError(f"predicate function {name!r} has no implementation in this environment")
    return function


def _build(node: Node, functions: Mapping[str, Any]) -> Test:
    if isinstance(node, All):
        tests = tuple(_build(item, functions) for item in node.items)
        return lambda fact: all(test(fact) for test in tests)
    if isinstance(node, AnyOf):
        tests = tuple(_build(item, functions) for item in node.items)
        return lambda fact: any(test(fact) for test in tests)
    return _leaf_test(node, functions)


@dataclass(frozen=True)
class Explanation:
    """One condition, the actual value it read (:data:`MISSING` if absent) and whether it held."""

    condition: str
    held: bool
    actual: Any = None
    children: tuple[Explanation, ...] = ()
    pointer: str | None = None

    def failures(self) -> list[Explanation]:
        """The leaf conditions that did not hold."""
        if not self.children:
            return [] if self.held else [self]
        return [leaf for child in self.children for leaf in child.failures()]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"condition": self.condition, "held": self.held}
        if not self.children:
            data["actual"] = "MISSING" if self.actual is MISSING else self.actual
        else:
            data["children"] = [child.to_dict() for child in self.children]
        return data

    def lines(self, depth: int = 0) -> list[str]:
        mark = "✓" if self.held else "✗"
        text = f"{'  ' * depth}{mark} {self.condition}"
        if not self.children:
            text += f" (actual: {self.actual!r})"
        return [text, *(line for child in self.children for line in child.lines(depth + 1))]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def describe(node: Node) -> str:
    """A condition as people read it: ``price < 20``, ``sku matches 'A.*'``, ``all of``."""
    if isinstance(node, All):
        return "all of"
    if isinstance(node, AnyOf):
        return "any of"
    if isinstance(node, Call):
        return f"{node.name}()"
    if isinstance(node, Exists):
        return f"{dotted(node.path)} {'exists' if node.present else 'is missing'}"
    if isinstance(node, Matches):
        return f"{dotted(node.path)} matches {node.pattern!r}"
    return f"{dotted(node.path)} {_SYMBOLS[node.op]} {node.value!r}"


def _explain(node: Node, fact: Any, functions: Mapping[str, Any]) -> Explanation:
    if isinstance(node, (All, AnyOf)):
        children = tuple(_explain(item, fact, functions) for item in node.items)
        combine = all if isinstance(node, All) else any
        return Explanation(describe(node), combine(c.held for c in children), None, children,
                           node.pointer)
    held = _leaf_test(node, functions)(fact)
    actual = None if isinstance(node, Call) else get_path(fact, node.path)
    return Explanation(describe(node), held, actual, (), node.pointer)


def to_durable(node: Node) -> dict[str, Any]:
    """The canonical durable_rules JSON for a tree (``$fn`` has none: ``ValueError``)."""
    if isinstance(node, (All, AnyOf)):
        return {"$and" if isinstance(node, All) else "$or": [to_durable(i) for i in node.items]}
    if isinstance(node, Call):
        raise ValueError(f"predicate function {node.name!r} cannot run in durable_rules")
    name = dotted(node.path)
    if isinstance(node, Exists):
        return {"$ex" if node.present else "$nex": {name: 1}}
    if isinstance(node, Matches):
        return {"$mt": {name: node.pattern}}
    if node.op == "$eq":
        return {name: node.value}
    return {node.op: {name: node.value}}


def leaves(node: Node) -> list[Node]:
    if isinstance(node, (All, AnyOf)):
        return [leaf for item in node.items for leaf in leaves(item)]
    return [node]


@dataclass(frozen=True)
class Predicate:
    """A compiled, type-checked condition over one kind of fact."""

    root: Node
    fact: str | None
    functions: Mapping[str, Any] = field(repr=False, compare=False)
    test: Test = field(repr=False, compare=False)

    def __call__(self, fact: Any) -> bool:
        return self.test(fact)

    def explain(self, fact: Any) -> Explanation:
        return _explain(self.root, fact, self.functions)

    def to_durable(self) -> dict[str, Any]:
        return to_durable(self.root)

    @property
    def fields(self) -> frozenset[str]:
        """The dotted field paths this predicate reads."""
        return frozenset(dotted(leaf.path) for leaf in leaves(self.root) if hasattr(leaf, "path"))


def explain(predicate: Predicate, fact: Any) -> Explanation:
    """Which conditions of ``predicate`` held for ``fact``, with the actual values."""
    return predicate.explain(fact)


def compile_predicate(
    data: Any, pointer: str, *, fact: str | None, env: Any, report: Report
) -> Predicate | None:
    """Parse, type-check against ``fact`` (``None``: no field checks) and compile a predicate.

    Problems go to ``report``; ``None`` comes back when there were any.
    """
    problems: list[tuple] = []

    def collect(where: str, message: str, hint_text: str | None = None, *, key: bool = False):
        problems.append((where, message, hint_text, key))

    root = parse(data, pointer, collect)
    if root is not None:
        check(root, fact, env, collect)
    for where, message, hint_text, key in problems:
        report(where, message, hint_text, key=key)
    if root is None or problems:
        return None
    functions = env.predicate_functions
    return Predicate(root, fact, functions, _build(root, functions))
