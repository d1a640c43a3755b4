"""Compiled predicates: closures over the condition tree, with explanations.

``compile_predicate`` parses and type-checks a condition (:mod:`rules.conditions`) and returns a
:class:`Predicate`: call it with a fact for a bool, :func:`explain` it for a tree saying which
condition held with which actual value, or turn it into durable_rules JSON with ``to_durable``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.conditions import (
    _ORDER, _SYMBOLS, ITEM, All, AnyOf, Arith, Call, Compare, CompareExpr, Exists, Matches, Node,
    Quantified, Ref, Report, check, describe_operand, dotted, parse, refs,
)
from rules.facts import MISSING, get_path
from rules.patterns import parse_pattern

Test = Callable[[Any], bool]
_COMPARE = {"$eq": operator.eq, "$neq": operator.ne, **_ORDER}
_REDUCE = {"$add": operator.add, "$sub": operator.sub, "$mul": operator.mul}


# -- durable_rules' value semantics -----------------------------------------------------------


_NUMBERS = (bool, int, float)  # durable's numbers: booleans are 0 and 1
_TYPES = {"number": _NUMBERS, "string": (str,)}
#: One value of each kind durable tells apart (and MISSING).
_SAMPLES = {"missing": MISSING, "null": None, "number": 0, "string": "", "other": []}


def _kind(value: Any) -> str:
    """durable's view of a JSON value: booleans are the numbers 0 and 1."""
    if value is None:
        return "null"
    if isinstance(value, _NUMBERS):
        return "number"
    return "string" if isinstance(value, str) else "other"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare_values(op: str, actual: Any, expected: Any) -> bool:
    """``actual <op> expected`` as durable_rules decides it (``op``: ``$eq $neq $lt …``).

    A missing side, a list or an object never matches (not even ``$neq``); a null value in the
    fact matches only ``$eq`` null, a null operand (a ``$m`` field holding null) only ``$neq`` a
    present scalar; numbers and booleans compare as numbers (``true == 1``); strings compare by
    code point. A string against a number is where durable_rules compares truncated text
    (``"1" == 123`` one way, not the other): Vectis treats them as different.
    """
    if actual is MISSING or expected is MISSING:
        return False
    left, right = _kind(actual), _kind(expected)
    if left == "other" or right == "other":
        return False
    if left == "null":
        return right == "null" and op == "$eq"
    if right == "null":
        return op == "$neq"
    if left != right:
        return op == "$neq"
    if op in ("$lte", "$gte") and isinstance(actual, bool) and isinstance(expected, bool):
        return True  # durable_rules' compareBool answers true for <= and >= on two booleans
    return _COMPARE[op](actual, expected)


def reduce_values(op: str, left: Any, right: Any) -> Any:
    """durable's ``$add/$sub/$mul/$div`` on two values; :data:`MISSING` where it gives nothing.

    Integers divide truncating toward zero (C); a float division by zero is infinite (or NaN).
    Anything but numbers yields MISSING: durable concatenates strings, gives inconsistent results
    for booleans nested in arithmetic and undefined ones for other types; an integer division by
    zero crashes durable's process (SIGFPE).
    """
    if not (_is_number(left) and _is_number(right)):
        return MISSING
    if op != "$div":
        return _REDUCE[op](left, right)
    if isinstance(left, float) or isinstance(right, float):
        if right == 0:
            return math.nan if left == 0 else math.copysign(math.inf, left) * math.copysign(1, right)
        return left / right
    if right == 0:
        return MISSING
    quotient = abs(left) // abs(right)
    return quotient if (left < 0) == (right < 0) else -quotient


# -- closures ------------------------------------------------------------------------------------
#
# Compiled from the validated tree with what can be decided once: the path's reader (one key of
# a dict fact read inline) and, for a comparison with a literal, which Python types compare with
# Python's operator and which kinds answer true whatever the value — both asked of
# compare_values here, so it stays the one definition (tests/rules/test_predicates.py checks each
# specialized leaf against it on values of every kind).


def _reader(path: tuple[str, ...]) -> Callable[[Any], Any]:
    """``fact -> value at path`` (:data:`MISSING` if absent), exactly :func:`get_path`."""
    if len(path) == 1:
        key = path[0]
        return lambda fact: fact.get(key, MISSING) if type(fact) is dict else get_path(fact, path)
    if len(path) == 2:
        first, second = path

        def read_two(fact: Any) -> Any:
            if type(fact) is dict and type(inner := fact.get(first, MISSING)) is dict:
                return inner.get(second, MISSING)
            return get_path(fact, path)

        return read_two
    return lambda fact: get_path(fact, path)


def literal_types(op: str, constant: Any) -> tuple[tuple[type, ...], tuple[type, ...]] | None:
    """How ``compare_values(op, value, constant)`` reads for a literal ``constant``: ``(same,
    across)`` where a value of a ``same`` type gives ``value <op> constant`` and any other value
    gives ``isinstance(value, across)``. ``None`` when it is not that simple (a null constant,
    ``<=``/``>=`` between booleans…)."""
    kind = _kind(constant)
    if kind not in _TYPES or (op in ("$lte", "$gte") and isinstance(constant, bool)):
        return None
    answers = {other: compare_values(op, sample, constant)
               for other, sample in _SAMPLES.items() if other != kind}
    if answers.pop("missing") or answers.pop("null") or answers.pop("other"):
        return None
    (other, holds), = answers.items()
    return _TYPES[kind], (_TYPES[other] if holds else ())


_M = MISSING
# ``value <op> c`` for a value of type T (no other kind holds), one key read inline or via r.
_ONE_KEY: dict[str, Callable[..., Test]] = {
    "$eq": lambda k, p, c, T: lambda f: isinstance(
        v := f.get(k, _M) if type(f) is dict else get_path(f, p), T) and v == c,
    "$lt": lambda k, p, c, T: lambda f: isinstance(
        v := f.get(k, _M) if type(f) is dict else get_path(f, p), T) and v < c,
    "$lte": lambda k, p, c, T: lambda f: isinstance(
        v := f.get(k, _M) if type(f) is dict else get_path(f, p), T) and v <= c,
    "$gt": lambda k, p, c, T: lambda f: isinstance(
        v := f.get(k, _M) if type(f) is dict else get_path(f, p), T) and v > c,
    "$gte": lambda k, p, c, T: lambda f: isinstance(
        v := f.get(k, _M) if type(f) is dict else get_path(f, p), T) and v >= c,
}
_READ: dict[str, Callable[..., Test]] = {
    "$eq": lambda r, c, T: lambda f: isinstance(v := r(f), T) and v == c,
    "$lt": lambda r, c, T: lambda f: isinstance(v := r(f), T) and v < c,
    "$lte": lambda r, c, T: lambda f: isinstance(v := r(f), T) and v <= c,
    "$gt": lambda r, c, T: lambda f: isinstance(v := r(f), T) and v > c,
    "$gte": lambda r, c, T: lambda f: isinstance(v := r(f), T) and v >= c,
}


def _literal_test(op: str, path: tuple[str, ...], constant: Any) -> Test:
    types = literal_types(op, constant)
    read = _reader(path)
    if types is None or (types[1] and op != "$neq"):
        return lambda fact: compare_values(op, read(fact), constant)
    same, across = types
    if op == "$neq":
        return lambda f: (v != constant) if isinstance(v := read(f), same) else \
            isinstance(v, across)
    if len(path) == 1:
        return _ONE_KEY[op](path[0], path, constant, same)
    return _READ[op](read, constant, same)


def _operand(operand: Any) -> Callable[[Any], Any]:
    if isinstance(operand, Ref):
        return _reader(operand.path)
    if isinstance(operand, Arith):
        left, right, op = _operand(operand.left), _operand(operand.right), operand.op
        return lambda fact: reduce_values(op, left(fact), right(fact))
    return lambda fact: operand


def _has_refs(node: Node) -> bool:
    if isinstance(node, (All, AnyOf)):
        return any(_has_refs(item) for item in node.items)
    if isinstance(node, Quantified):
        return _has_refs(node.item)
    return isinstance(node, CompareExpr)


def _scopes(node: Quantified, fact: Any) -> list[Any] | None:
    """What the item condition reads for each item: ``$i`` (and the fact, for ``$m``)."""
    values = get_path(fact, node.path)
    if not isinstance(values, list) or not values:
        return None  # durable: no list, or an empty one, matches neither $iany nor $iall
    if _has_refs(node.item):
        return [{**fact, ITEM: value} for value in values]
    return [{ITEM: value} for value in values]


def _leaf_test(node: Node, functions: Mapping[str, Any]) -> Test:
    if isinstance(node, Call):
        return lambda fact, name=node.name: bool(_function(functions, name)(fact))
    path, read = node.path, _reader(node.path)
    if isinstance(node, Quantified):
        item, wanted = _build(node.item, functions), node.quantifier == "$iany"

        def quantified(fact: Any) -> bool:
            scopes = _scopes(node, fact)
            if scopes is None:
                return False
            for scope in scopes:
                if item(scope) == wanted:
                    return wanted
            return not wanted

        return quantified
    if isinstance(node, Exists):
        if node.present:
            return lambda fact: read(fact) is not MISSING
        return lambda fact: read(fact) is MISSING
    if isinstance(node, Matches):
        full = parse_pattern(node.pattern, node.ignore_case).compile().fullmatch
        return lambda fact: isinstance(v := read(fact), str) and full(v) is not None
    op = node.op
    if isinstance(node, CompareExpr):
        operand = _operand(node.operand)
        return lambda fact: compare_values(op, read(fact), operand(fact))
    return _literal_test(op, path, node.value)


def _function(functions: Mapping[str, Any], name: str) -> Callable[[Any], bool]:
    function = functions.get(name)
    if function is None:
        raise LookupError(f"predicate function {name!r} has no implementation in this environment")
    return function


def _build(node: Node, functions: Mapping[str, Any]) -> Test:
    """The closure for any condition node (the batch evaluator's fallback too)."""
    if isinstance(node, (All, AnyOf)):
        tests = tuple(_build(item, functions) for item in node.items)
        if isinstance(node, All):
            return _every(tests)
        some = _some(tests)
        return _membership(node, some) or some
    return _leaf_test(node, functions)


_HASHED = (str, int, float, bool)  # hash consistently with ==, so `in` a set is a run of ==


def _membership(node: AnyOf, some: Test) -> Test | None:
    """An ``in`` list (``$eq`` literals on one path) as one set lookup, where every constant
    equals exactly the values of its own types (:func:`literal_types`); ``some`` for values of
    other types."""
    items = node.items
    if not all(isinstance(i, Compare) and i.op == "$eq" and i.path == items[0].path
               and type(i.value) in _HASHED and i.value == i.value
               and literal_types("$eq", i.value) == (_TYPES[_kind(i.value)], ()) for i in items):
        return None
    read, constants = _reader(items[0].path), frozenset(i.value for i in items)
    return lambda fact: (v in constants) if type(v := read(fact)) in _HASHED else some(fact)


def _every(tests: tuple[Test, ...]) -> Test:
    """All of ``tests``, in order, stopping at the first false (two or three: no loop)."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda fact: a(fact) and b(fact)
    if len(tests) == 3:
        a, b, c = tests
        return lambda fact: a(fact) and b(fact) and c(fact)

    def every(fact: Any) -> bool:
        for test in tests:
            if not test(fact):
                return False
        return True

    return every


def _some(tests: tuple[Test, ...]) -> Test:
    """Any of ``tests``, in order, stopping at the first true."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda fact: a(fact) or b(fact)
    if len(tests) == 3:
        a, b, c = tests
        return lambda fact: a(fact) or b(fact) or c(fact)

    def some(fact: Any) -> bool:
        for test in tests:
            if test(fact):
                return True
        return False

    return some


@dataclass(frozen=True)
class Explanation:
    """One condition, the actual value it read (:data:`MISSING` if absent) and whether it held.

    ``operands``: for a comparison with fields or arithmetic, each referenced field and the
    computed right-hand side, as ``(text, value)`` pairs.
    """

    condition: str
    held: bool
    actual: Any = None
    children: tuple[Explanation, ...] = ()
    pointer: str | None = None
    operands: tuple[tuple[str, Any], ...] = ()

    def failures(self) -> list[Explanation]:
        """The leaf conditions that did not hold."""
        if not self.children:
            return [] if self.held else [self]
        return [leaf for child in self.children for leaf in child.failures()]

    @property
    def _shows_actual(self) -> bool:
        return not self.children or self.actual is not None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"condition": self.condition, "held": self.held}
        if self._shows_actual:
            data["actual"] = _shown(self.actual)
        if self.operands:
            data["operands"] = {text: _shown(value) for text, value in self.operands}
        if self.children:
            data["children"] = [child.to_dict() for child in self.children]
        return data

    def lines(self, depth: int = 0) -> list[str]:
        mark = "✓" if self.held else "✗"
        text = f"{'  ' * depth}{mark} {self.condition}"
        if self._shows_actual:
            read = [f"actual: {self.actual!r}", *(f"{name}: {value!r}" for name, value in self.operands)]
            text += f" ({'; '.join(read)})"
        return [text, *(line for child in self.children for line in child.lines(depth + 1))]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _shown(value: Any) -> Any:
    return "MISSING" if value is MISSING else value


def describe(node: Node) -> str:
    """A condition as people read it: ``price < 20``, ``sku matches 'A.*'``, ``all of``."""
    if isinstance(node, All):
        return "all of"
    if isinstance(node, AnyOf):
        return "any of"
    if isinstance(node, Call):
        return f"{node.name}()"
    name = dotted(node.path)
    if isinstance(node, Quantified):
        return f"{'any' if node.quantifier == '$iany' else 'every'} item of {name}"
    if isinstance(node, Exists):
        return f"{name} {'exists' if node.present else 'is missing'}"
    if isinstance(node, Matches):
        return f"{name} matches {node.pattern!r}{' ignoring case' if node.ignore_case else ''}"
    if isinstance(node, CompareExpr):
        return f"{name} {_SYMBOLS[node.op]} {describe_operand(node.operand)}"
    return f"{name} {_SYMBOLS[node.op]} {node.value!r}"


def _explain(node: Node, fact: Any, functions: Mapping[str, Any]) -> Explanation:
    if isinstance(node, (All, AnyOf)):
        children = tuple(_explain(item, fact, functions) for item in node.items)
        combine = all if isinstance(node, All) else any
        return Explanation(describe(node), combine(c.held for c in children), None, children,
                           node.pointer)
    held = _leaf_test(node, functions)(fact)
    if isinstance(node, Call):
        return Explanation(describe(node), held, None, (), node.pointer)
    actual = get_path(fact, node.path)
    if isinstance(node, Quantified):
        items = [(scope[ITEM], _explain(node.item, scope, functions))
                 for scope in _scopes(node, fact) or ()]
        children = tuple(Explanation(f"item {index}", child.held, value, (child,), node.pointer)
                         for index, (value, child) in enumerate(items))
        return Explanation(describe(node), held, actual, children, node.pointer)
    operands: tuple[tuple[str, Any], ...] = ()
    if isinstance(node, CompareExpr):
        read = tuple((dotted(ref.path), get_path(fact, ref.path)) for ref in refs(node.operand))
        computed = ((describe_operand(node.operand), _operand(node.operand)(fact)),) \
            if isinstance(node.operand, Arith) else ()
        operands = read + computed
    return Explanation(describe(node), held, actual, (), node.pointer, operands)


def _operand_json(operand: Any) -> Any:
    if isinstance(operand, Ref):
        return {"$m": dotted(operand.path)}
    if isinstance(operand, Arith):
        return {operand.op: {"$l": _operand_json(operand.left), "$r": _operand_json(operand.right)}}
    return operand


def to_durable(node: Node) -> dict[str, Any]:
    """The canonical durable_rules JSON for a tree (``$fn`` has none: ``ValueError``)."""
    if isinstance(node, (All, AnyOf)):
        return {"$and" if isinstance(node, All) else "$or": [to_durable(i) for i in node.items]}
    if isinstance(node, Call):
        raise ValueError(f"predicate function {node.name!r} cannot run in durable_rules")
    name = dotted(node.path)
    if isinstance(node, Quantified):
        return {node.quantifier: {name: to_durable(node.item)}}
    if isinstance(node, Exists):
        return {"$ex" if node.present else "$nex": {name: 1}}
    if isinstance(node, Matches):
        return {"$imt" if node.ignore_case else "$mt": {name: node.pattern}}
    value = _operand_json(node.operand) if isinstance(node, CompareExpr) else node.value
    if node.op == "$eq":
        return {name: value}
    return {node.op: {name: value}}


def leaves(node: Node) -> list[Node]:
    """The conditions under ``$and``/``$or`` (a ``$iany``/``$iall`` is one leaf)."""
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
        paths = [leaf.path for leaf in leaves(self.root) if hasattr(leaf, "path")]
        paths += [ref.path for leaf in leaves(self.root) if isinstance(leaf, CompareExpr)
                  for ref in refs(leaf.operand)]
        return frozenset(dotted(path) for path in paths)


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
