"""Batch evaluation: L predicates × P facts in one pass, sharing work across predicates.

>>> evaluator = BatchEvaluator([label.predicate for label in labels])
>>> table = FactTable(products, evaluator.paths)       # once per catalog snapshot
>>> result = evaluator.evaluate(table)                 # columnar pass
>>> result.facts_matching(0), result.predicates_matching(12)
>>> evaluator.evaluate(cart_products)                  # a few facts: the generated function

Each distinct condition is evaluated once for all predicates (:mod:`rules.batch_plan`), over
columns of the facts (:mod:`rules.batch_table`, :mod:`rules.batch_columnar`); for a handful of
facts one generated function evaluates every predicate per fact (:mod:`rules.batch_codegen`).
Both give exactly what calling each :class:`~rules.predicates.Predicate` on each fact gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from rules.batch_codegen import PerFact, per_fact_function
from rules.batch_columnar import Pass
from rules.batch_plan import MATCH, Plan
from rules.batch_table import FactTable
from rules.predicates import Predicate

#: Below this many facts (a list, not a prepared table) the generated per-fact function is used:
#: building columns costs more than it saves (crossover: tests/bench/bench_labels.py).
SMALL_BATCH = 64


class BatchResult:
    """Which predicates hold for which facts: one boolean mask over the facts per predicate."""

    def __init__(self, masks: Sequence[np.ndarray], size: int):
        for mask in masks:  # masks may be shared between predicates: keep them read-only
            mask.flags.writeable = False
        self.masks: tuple[np.ndarray, ...] = tuple(masks)
        self.size = size

    @cached_property
    def matrix(self) -> np.ndarray:
        """predicates × facts booleans."""
        if not self.masks:
            return np.zeros((0, self.size), dtype=bool)
        return np.stack(self.masks)

    def facts_matching(self, predicate: int) -> np.ndarray:
        """Indexes of the facts predicate number ``predicate`` holds for."""
        return np.flatnonzero(self.masks[predicate])

    def predicates_matching(self, fact: int) -> np.ndarray:
        """Indexes of the predicates that hold for fact number ``fact``."""
        return np.flatnonzero(self.matrix[:, fact])

    def pairs(self) -> list[tuple[int, int]]:
        """Every matching (predicate, fact) pair, by predicate then fact."""
        found = np.argwhere(self.matrix)
        return [(int(p), int(f)) for p, f in found]


class BatchEvaluator:
    """Predicates compiled once into a shared network; evaluate it over tables or fact lists."""

    def __init__(self, predicates: Sequence[Predicate]):
        self.plan = Plan(predicates)

    @property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        """The field paths the predicates read: the columns a :class:`FactTable` needs."""
        return self.plan.paths

    @cached_property
    def per_fact(self) -> PerFact:
        """The generated function: ``fact -> tuple of bools``, one per predicate."""
        return per_fact_function(self.plan)

    def table(self, facts: Sequence[Any]) -> FactTable:
        """The facts in the columns these predicates read, prepared for their regexes."""
        return FactTable(facts, self.paths, self.plan.paths_of(MATCH))

    def evaluate(self, facts: FactTable | Sequence[Any]) -> BatchResult:
        """The columnar pass for a table or a large list; the generated function for a few facts."""
        if not isinstance(facts, FactTable) and len(facts) < SMALL_BATCH:
            return self.evaluate_each(facts)
        table = facts if isinstance(facts, FactTable) else self.table(facts)
        return BatchResult(Pass(self.plan, table).masks(), len(table))

    def evaluate_each(self, facts: Sequence[Any]) -> BatchResult:
        """The generated function applied to each fact."""
        outcomes = np.array([self.per_fact(fact) for fact in facts], dtype=bool)
        outcomes = outcomes.reshape(len(facts), len(self.plan.roots)).T
        return BatchResult(list(outcomes), len(facts))


def evaluate(predicates: Sequence[Predicate], facts: FactTable | Sequence[Any]) -> BatchResult:
    """One-off batch evaluation (keep a :class:`BatchEvaluator` to evaluate again)."""
    return BatchEvaluator(predicates).evaluate(facts)
