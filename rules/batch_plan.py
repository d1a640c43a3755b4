"""The shared network of many predicates: each distinct condition once, like a Rete alpha network.

:class:`Plan` turns L compiled predicates into a list of :class:`Step` (children before parents),
merging identical conditions across predicates (ignoring where they were written) and reading an
``in`` list (``$or`` of equalities on one field) as one membership test. Anything that is not one
of the vectorized node classes of :mod:`rules.conditions` becomes a ``closure`` step: the
predicate's own compiled closure for that subtree, so every predicate the language accepts runs.
Both evaluators use a plan: the columnar one (:mod:`rules.batch`) and the generated per-fact
function (:mod:`rules.batch_codegen`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rules.conditions import All, AnyOf, Compare, Exists, Matches
from rules.patterns import parse_pattern
from rules.closures import build_test
from rules.predicates import Predicate, leaves
from rules.values import literal_types

AND, OR, EQ, NEQ, IN, RANGE, EXISTS, MATCH, CLOSURE = (
    "and", "or", "eq", "neq", "in", "range", "exists", "match", "closure")
#: Step kinds that read one field and are evaluated without per-fact Python.
FIELD_KINDS = frozenset({EQ, NEQ, IN, RANGE, EXISTS, MATCH})
_WHERE = frozenset({"pointer", "field_pointer"})


def node_key(node: Any) -> Any:
    """A hashable identity of a condition tree that ignores where it was written.

    Values carry their type, so ``True`` and ``1`` (equal in Python) stay different conditions.
    """
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node), tuple((f.name, node_key(getattr(node, f.name)))
                                  for f in dataclasses.fields(node) if f.name not in _WHERE))
    if isinstance(node, (tuple, list)):
        return (type(node), tuple(node_key(item) for item in node))
    if isinstance(node, dict):
        return (dict, tuple((node_key(k), node_key(v)) for k, v in node.items()))
    try:
        hash(node)
    except TypeError:
        return ("object", id(node))  # not shared, still correct
    return (type(node), node)


@dataclass(frozen=True, eq=False)
class Step:
    """One distinct condition. ``arg``: the constant (eq, neq), the constants (in), ``(op,
    value)`` (range), ``present`` (exists), the compiled regex (match), the per-fact test
    (closure). ``pure``: no closure below, so it can be evaluated for every fact at once."""

    kind: str
    path: tuple[str, ...] | None = None
    arg: Any = None
    children: tuple[int, ...] = ()
    pure: bool = True


#: The node shapes vectorized here; a node class that grows a field (say, a regex flag) or an
#: operator added later falls back to its closure rather than being evaluated wrongly.
_SHAPES = {
    All: {"items", "pointer"}, AnyOf: {"items", "pointer"},
    Compare: {"op", "path", "value", "pointer", "field_pointer"},
    Exists: {"path", "present", "pointer", "field_pointer"},
    Matches: {"path", "pattern", "pointer", "field_pointer", "ignore_case"},
}
_RANGES = frozenset({"$lt", "$lte", "$gt", "$gte"})
_COMPARISONS = frozenset({"$eq", "$neq", *_RANGES})


def vectorized(node: Any) -> bool:
    """Whether ``node`` itself (not its children) is one of the shapes evaluated here."""
    shape = _SHAPES.get(type(node))
    if shape is None or {f.name for f in dataclasses.fields(node)} != shape:
        return False
    if type(node) is Compare:  # validation's constants: ranges on numbers, equality on scalars,
        scalars = (int, float) if node.op in _RANGES else (str, int, float, bool)
        return (node.op in _COMPARISONS and type(node.value) in scalars  # read by their types
                and literal_types(node.op, node.value) is not None)
    return True


def _has_closure(node: Any) -> bool:
    if not vectorized(node):
        return True
    return type(node) in (All, AnyOf) and any(_has_closure(item) for item in node.items)


def _membership(node: AnyOf) -> tuple[tuple[str, ...], tuple] | None:
    items = node.items
    equalities = all(type(i) is Compare and vectorized(i) and i.op == "$eq" for i in items)
    if equalities and len({item.path for item in items}) == 1:
        return items[0].path, tuple(item.value for item in items)
    return None


class Plan:
    """Predicates compiled into one network of distinct steps; immutable once built."""

    def __init__(self, predicates: Sequence[Predicate]):
        self.predicates: tuple[Predicate, ...] = tuple(predicates)
        self.steps: list[Step] | tuple[Step, ...] = []
        self._ids: dict[Any, int] = {}
        self._functions: Any = None
        self.roots: tuple[int, ...] = tuple(self._root(p) for p in self.predicates)
        self.paths: tuple[tuple[str, ...], ...] = tuple(dict.fromkeys(
            step.path for step in self.steps if step.kind in FIELD_KINDS))
        self.steps = tuple(self.steps)
        del self._ids, self._functions

    def _root(self, predicate: Predicate) -> int:
        self._functions = predicate.functions
        return self._add(predicate.root)

    def _add(self, node: Any) -> int:
        # A closure depends on the predicate's functions too: the same $fn name may mean another
        # function in another environment. Field tests are shared across environments.
        key = node_key(node)
        if _has_closure(node):
            key = (key, id(self._functions))
        found = self._ids.get(key)
        if found is None:
            self.steps.append(self._step(node))  # after its children: they come first
            found = self._ids[key] = len(self.steps) - 1
        return found

    def _step(self, node: Any) -> Step:
        kind = type(node)
        if not vectorized(node):
            return Step(CLOSURE, None, build_test(node, self._functions), (), False)
        if kind is AnyOf and (member := _membership(node)) is not None:
            return Step(IN, member[0], member[1])
        if kind in (All, AnyOf):
            children = tuple(self._add(item) for item in node.items)
            pure = all(self.steps[child].pure for child in children)
            return Step(AND if kind is All else OR, None, None, children, pure)
        if kind is Compare:
            if node.op in ("$eq", "$neq"):
                return Step(EQ if node.op == "$eq" else NEQ, node.path, node.value)
            return Step(RANGE, node.path, (node.op, node.value))
        if kind is Exists:
            return Step(EXISTS, node.path, node.present)
        return Step(MATCH, node.path, parse_pattern(node.pattern, node.ignore_case).compile())

    def paths_of(self, kind: str) -> tuple[tuple[str, ...], ...]:
        """The field paths read by steps of ``kind``."""
        return tuple(dict.fromkeys(step.path for step in self.steps if step.kind == kind))

    @property
    def stats(self) -> dict[str, int]:
        """How much the predicates share: ``leaf_references`` leaves written in all predicates,
        ``distinct_leaves`` steps evaluated per pass (an ``in`` list counts once)."""
        kinds = Counter(step.kind for step in self.steps)
        return {
            "predicates": len(self.predicates),
            "leaf_references": sum(len(leaves(p.root)) for p in self.predicates),
            "distinct_leaves": sum(kinds[kind] for kind in (*FIELD_KINDS, CLOSURE)),
            "distinct_steps": len(self.steps),
            "closures": kinds[CLOSURE],
            "fields": len(self.paths),
        }
