"""Compiled predicates: closures over the condition tree, with explanations.

``compile_predicate`` parses and type-checks a condition (:mod:`rules.conditions`) and returns a
:class:`Predicate`: call it with a fact for a bool (closures from :mod:`rules.closures`, durable's
value semantics in :mod:`rules.values`), :func:`explain` it for a tree saying which condition held
with which actual value, or turn it into durable_rules JSON with ``to_durable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rules.closures import Test, build_test, item_scopes, leaf_test, operand_value
from rules.conditions import (
    _SYMBOLS, ITEM, All, AnyOf, Arith, Call, CompareExpr, Exists, Matches, Node, Quantified, Ref,
    Report, check, describe_operand, dotted, parse, refs,
)
from rules.facts import MISSING, get_path


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
    held = leaf_test(node, functions)(fact)
    if isinstance(node, Call):
        return Explanation(describe(node), held, None, (), node.pointer)
    actual = get_path(fact, node.path)
    if isinstance(node, Quantified):
        items = [(scope[ITEM], _explain(node.item, scope, functions))
                 for scope in item_scopes(node, fact) or ()]
        children = tuple(Explanation(f"item {index}", child.held, value, (child,), node.pointer)
                         for index, (value, child) in enumerate(items))
        return Explanation(describe(node), held, actual, children, node.pointer)
    operands: tuple[tuple[str, Any], ...] = ()
    if isinstance(node, CompareExpr):
        read = tuple((dotted(ref.path), get_path(fact, ref.path)) for ref in refs(node.operand))
        computed = ((describe_operand(node.operand), operand_value(node.operand)(fact)),) \
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
    return Predicate(root, fact, functions, build_test(root, functions))
