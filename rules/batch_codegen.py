"""All predicates of a plan for one fact in one generated function: the small-batch evaluator.

For a cart's few products a columnar pass costs more to set up than it saves. Instead the plan's
steps become the body of one Python function: each field is read once into a local, each pure
step is computed once into a local, and every predicate's outcome is an ``and``/``or`` of those
locals. The source is generated from the validated plan only: it names generated locals and
bound constants (``c3``, ``r1``, ``f0``), never pasting a field name, value or pattern written by
an author, and it is compiled with :func:`compile` into a namespace we build.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules.batch_plan import AND, CLOSURE, EQ, EXISTS, IN, MATCH, NEQ, OR, RANGE, Plan
from rules.facts import MISSING, get_path
from rules.values import literal_types

PerFact = Callable[[Any], tuple[bool, ...]]
_SYMBOLS = {"$eq": "==", "$neq": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"MISSING": MISSING, "_get": get_path}
        self._paths: dict[tuple[str, ...], str] = {}

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def read(self, path: tuple[str, ...]) -> str:
        """The local holding ``path``'s value, reading it on first use."""
        local = self._paths.get(path)
        if local is None:
            local = self._paths[path] = f"v{len(self._paths)}"
            if len(path) == 1:
                key = self.bind("k", path[0])
                self.lines.append(f"    {local} = fact.get({key}, MISSING) if type(fact) is dict "
                                  f"else MISSING")
            else:
                self.lines.append(f"    {local} = _get(fact, {self.bind('p', path)})")
        return local


def _comparison(op: str, value: str, constant: Any, source: _Source) -> str:
    """``value <op> constant`` as ``rules.values.compare_values`` decides it: Python's
    operator for a value of the constant's types, else the answer its kind gives whatever the
    value (both from :func:`rules.values.literal_types`, asked once, here)."""
    same, across = literal_types(op, constant)  # the plan vectorizes no other constant
    test = f"{value} {_SYMBOLS[op]} {source.bind('c', constant)}"
    if not across:
        return f"(isinstance({value}, {source.bind('y', same)}) and {test})"
    return (f"(({test}) if isinstance({value}, {source.bind('y', same)}) "
            f"else isinstance({value}, {source.bind('y', across)}))")


def _field_test(step, source: _Source) -> str:
    value = source.read(step.path)
    if step.kind in (EQ, NEQ):
        return _comparison("$eq" if step.kind == EQ else "$neq", value, step.arg, source)
    if step.kind == IN:
        return f"({' or '.join(_comparison('$eq', value, c, source) for c in step.arg)})"
    if step.kind == RANGE:
        op, constant = step.arg
        return _comparison(op, value, constant, source)
    if step.kind == EXISTS:
        return f"({value} is {'not ' if step.arg else ''}MISSING)"
    if step.kind == MATCH:
        return (f"(isinstance({value}, str) and "
                f"{source.bind('r', step.arg)}.fullmatch({value}) is not None)")
    raise AssertionError(f"not a field step: {step.kind}")


def generate(plan: Plan) -> tuple[str, dict[str, Any]]:
    """The source of ``evaluate_all(fact)`` and the namespace it runs in."""
    source = _Source()
    expressions: dict[int, str] = {}
    for index, step in enumerate(plan.steps):
        if step.kind == CLOSURE:  # called inline, so and/or short-circuit it per fact
            expressions[index] = f"bool({source.bind('f', step.arg)}(fact))"
            continue
        if step.kind in (AND, OR):
            joined = f" {step.kind} ".join(expressions[child] for child in step.children)
            expression = f"({joined})"
        else:
            expression = _field_test(step, source)
        if step.pure:
            source.lines.append(f"    t{index} = {expression}")
            expression = f"t{index}"
        expressions[index] = expression
    outcomes = ", ".join(f"bool({expressions[root]})" for root in plan.roots)
    body = "\n".join(source.lines)
    text = f"def evaluate_all(fact):\n{body}\n    return ({outcomes}{',' if plan.roots else ''})\n"
    return text, source.names


def per_fact_function(plan: Plan) -> PerFact:
    """``fact -> tuple of bools``, one per predicate of ``plan``, in order."""
    text, namespace = generate(plan)
    exec(compile(text, "<rules.batch generated>", "exec"), namespace)  # our generated code only
    return namespace["evaluate_all"]
