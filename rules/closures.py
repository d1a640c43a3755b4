"""Closures compiled from a validated condition tree: the fast one-fact evaluator.

What can be decided once is decided here: the path's reader (one key of a dict fact read inline)
and, for a comparison with a literal, which Python types compare with Python's operator and which
kinds hold whatever the value — both asked of :func:`rules.values.compare_values`, so it stays
the one definition (tests/rules/test_predicates.py checks each specialized leaf against it on
values of every kind). :func:`build_test` is also the batch evaluator's fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rules.conditions import (
    ITEM, All, AnyOf, Arith, Call, Compare, CompareExpr, Exists, Matches, Node, Quantified, Ref,
)
from rules.facts import MISSING, get_path
from rules.patterns import parse_pattern
from rules.values import KIND_TYPES, compare_values, literal_types, reduce_values, value_kind

Test = Callable[[Any], bool]


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


def operand_value(operand: Any) -> Callable[[Any], Any]:
    if isinstance(operand, Ref):
        return _reader(operand.path)
    if isinstance(operand, Arith):
        left, right, op = operand_value(operand.left), operand_value(operand.right), operand.op
        return lambda fact: reduce_values(op, left(fact), right(fact))
    return lambda fact: operand


def _has_refs(node: Node) -> bool:
    if isinstance(node, (All, AnyOf)):
        return any(_has_refs(item) for item in node.items)
    if isinstance(node, Quantified):
        return _has_refs(node.item)
    return isinstance(node, CompareExpr)


def item_scopes(node: Quantified, fact: Any) -> list[Any] | None:
    """What the item condition reads for each item: ``$i`` (and the fact, for ``$m``)."""
    values = get_path(fact, node.path)
    if not isinstance(values, list) or not values:
        return None  # durable: no list, or an empty one, matches neither $iany nor $iall
    if _has_refs(node.item):
        return [{**fact, ITEM: value} for value in values]
    return [{ITEM: value} for value in values]


def leaf_test(node: Node, functions: Mapping[str, Any]) -> Test:
    if isinstance(node, Call):
        return lambda fact, name=node.name: bool(_function(functions, name)(fact))
    path, read = node.path, _reader(node.path)
    if isinstance(node, Quantified):
        item, wanted = build_test(node.item, functions), node.quantifier == "$iany"

        def quantified(fact: Any) -> bool:
            scopes = item_scopes(node, fact)
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
        operand = operand_value(node.operand)
        return lambda fact: compare_values(op, read(fact), operand(fact))
    return _literal_test(op, path, node.value)


def _function(functions: Mapping[str, Any], name: str) -> Callable[[Any], bool]:
    function = functions.get(name)
    if function is None:
        raise LookupError(f"predicate function {name!r} has no implementation in this environment")
    return function


def build_test(node: Node, functions: Mapping[str, Any]) -> Test:
    """The closure for any condition node (the batch evaluator's fallback too)."""
    if isinstance(node, (All, AnyOf)):
        tests = tuple(build_test(item, functions) for item in node.items)
        if isinstance(node, All):
            return _every(tests)
        some = _some(tests)
        return _membership(node, some) or some
    return leaf_test(node, functions)


_HASHED = (str, int, float, bool)  # hash consistently with ==, so `in` a set is a run of ==


def _membership(node: AnyOf, some: Test) -> Test | None:
    """An ``in`` list (``$eq`` literals on one path) as one set lookup, where every constant
    equals exactly the values of its own types (:func:`literal_types`); ``some`` for values of
    other types."""
    items = node.items
    if not all(isinstance(i, Compare) and i.op == "$eq" and i.path == items[0].path
               and type(i.value) in _HASHED and i.value == i.value
               and literal_types("$eq", i.value) == (KIND_TYPES[value_kind(i.value)], ()) for i in items):
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
