"""One columnar pass of a :class:`~rules.batch_plan.Plan` over a
:class:`~rules.batch_table.FactTable`.

Field tests are grouped by column and evaluated together: the equalities on a field are one
broadcast comparison of integer codes, an ``in`` list one lookup table over codes, a regex is run
once per distinct string that starts with its literal prefix, and the range bounds on a field are sorted so that one
``searchsorted`` ranks every fact among all of them (each bound is then an integer comparison of
small ranks). ``and``/``or`` combine boolean masks. A closure step runs per fact, and only for
the facts whose outcome still depends on it (as the closures' own short-circuit would).
"""

from __future__ import annotations

import bisect
import re
import re._constants as re_constants  # the regex parser: a literal prefix narrows the strings
import re._parser as re_parser
import sys
from collections import defaultdict

import numpy as np

from rules.batch_plan import AND, CLOSURE, EQ, EXISTS, IN, MATCH, NEQ, OR, RANGE, Plan, Step
from rules.batch_table import REPRESENTATIVES, Column, FactTable, exact_number, kind_of
from rules.values import compare_values

_NEVER = -2  # the code of a constant no fact holds: matches no row (missing rows are -1)


def _rank_dtype(count: int) -> type:
    return np.uint8 if count < 255 else np.uint16 if count < 65535 else np.int64


class Pass:
    """The masks of every step of ``plan`` over ``table`` (read :meth:`masks` once)."""

    def __init__(self, plan: Plan, table: FactTable):
        self.plan, self.table = plan, table
        self.size = len(table)
        self.full: dict[int, np.ndarray] = {}
        self._closures: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._kind_rows: dict[tuple, np.ndarray] = {}

    def masks(self) -> list[np.ndarray]:
        self._fields()
        for index, step in enumerate(self.plan.steps):
            if step.pure and step.kind in (AND, OR):
                self.full[index] = _combine(step.kind, [self.full[c] for c in step.children])
        return [self._eval(root, None) for root in self.plan.roots]

    # -- field tests, grouped by column ----------------------------------------------------

    def _fields(self) -> None:
        by_path: dict[tuple, list[int]] = defaultdict(list)
        for index, step in enumerate(self.plan.steps):
            if step.path is not None:
                by_path[step.path].append(index)
        for path, indexes in by_path.items():
            column = self.table.column(path)
            self._equalities(column, indexes)
            self._ranges(column, indexes)
            for index in indexes:
                step = self.plan.steps[index]
                if step.kind == EXISTS:
                    self.full[index] = column.present if step.arg else ~column.present
                elif step.kind == IN:
                    self.full[index] = self._lookup(column, [column.code(v) for v in step.arg])
                elif step.kind == MATCH:
                    self.full[index] = self._lookup(column, _matching(column, step.arg))

    def _lookup(self, column: Column, codes: list[int]) -> np.ndarray:
        hits = np.zeros(len(column.uniques) + 1, dtype=bool)  # the last entry serves code -1
        hits[[code for code in codes if code >= 0]] = True
        return hits[column.codes]

    def _equalities(self, column: Column, indexes: list[int]) -> None:
        steps = [(i, self.plan.steps[i]) for i in indexes]
        tests = [(i, step) for i, step in steps if step.kind in (EQ, NEQ)]
        if not tests:
            return
        codes = [column.code(step.arg) for _, step in tests]
        wanted = np.array([_NEVER if code < 0 else code for code in codes], dtype=np.int32)
        rows = column.codes[None, :] == wanted[:, None]
        for row, (index, step) in enumerate(tests):
            op = "$eq" if step.kind == EQ else "$neq"
            same = rows[row] if op == "$eq" else (column.kinds == kind_of(step.arg)) & ~rows[row]
            self.full[index] = self._across_kinds(column, op, step.arg, same)

    def _across_kinds(self, column: Column, op: str, constant, same: np.ndarray) -> np.ndarray:
        """``same`` (the rows of the constant's kind) with the rows of the kinds where
        :func:`compare_values` answers true whatever the value (null for ``$neq``, say)."""
        answers = tuple(kind != kind_of(constant) and compare_values(op, value, constant)
                        for kind, value in enumerate(REPRESENTATIVES))
        if not any(answers):
            return same
        rows = self._kind_rows.get((column, answers))
        if rows is None:
            rows = self._kind_rows[(column, answers)] = np.array(answers)[column.kinds]
        return same | rows

    def _ranges(self, column: Column, indexes: list[int]) -> None:
        tests = [(i, *self.plan.steps[i].arg) for i in indexes if self.plan.steps[i].kind == RANGE]
        if not tests:
            return
        if not column.exact or not all(exact_number(v) and v == v for _, _, v in tests):
            for index, op, value in tests:  # numbers float64 cannot hold exactly: in Python
                self.full[index] = np.fromiter(
                    (compare_values(op, v, value) for v in column.values), bool, self.size)
            return
        bounds = np.unique(np.array([v for _, _, v in tests], dtype=float))
        ranks = _Ranks(column, bounds)
        by_op: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, op, value in tests:
            by_op[op].append((index, int(np.searchsorted(bounds, value))))
        for op, items in by_op.items():
            rank, limits = ranks.for_op(op, [j for _, j in items])
            rows = rank[None, :] > limits[:, None]
            for row, (index, _) in enumerate(items):
                value = self.plan.steps[index].arg[1]
                self.full[index] = self._across_kinds(column, op, value, rows[row])

    # -- combining, with closures only where still needed ------------------------------------

    def _eval(self, index: int, rows: np.ndarray | None) -> np.ndarray:
        step = self.plan.steps[index]
        if step.pure:
            mask = self.full[index]
            return mask if rows is None else mask & rows
        if step.kind == CLOSURE:
            return self._closure(index, step, rows)
        pure = [self.full[c] for c in step.children if self.plan.steps[c].pure]
        impure = [c for c in step.children if not self.plan.steps[c].pure]
        if step.kind == AND:
            mask = _combine(AND, pure) if pure else np.ones(self.size, dtype=bool)
            if rows is not None:
                mask = mask & rows
            for child in impure:
                mask = mask & self._eval(child, mask)
            return mask
        mask = _combine(OR, pure) if pure else np.zeros(self.size, dtype=bool)
        if rows is not None:
            mask = mask & rows
        for child in impure:
            left = ~mask if rows is None else rows & ~mask
            mask = mask | self._eval(child, left)
        return mask

    def _closure(self, index: int, step: Step, rows: np.ndarray | None) -> np.ndarray:
        known, value = self._closures.setdefault(
            index, (np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=bool)))
        need = np.flatnonzero(~known if rows is None else rows & ~known)
        if need.size:
            facts, test = self.table.facts, step.arg
            value[need] = np.fromiter((bool(test(facts[i])) for i in need), bool, need.size)
            known[need] = True
        return value.copy() if rows is None else value & rows


class _Ranks:
    """Each fact's rank among the sorted bounds of one column: ``v OP bounds[j]`` is ``rank >
    limit``. Facts without an ordered number get rank 0, which passes no test."""

    def __init__(self, column: Column, bounds: np.ndarray):
        self.column, self.bounds, self.count = column, bounds, len(bounds)
        self._cache: dict[str, np.ndarray] = {}

    def _position(self, side: str) -> np.ndarray:
        if side not in self._cache:
            self._cache[side] = np.searchsorted(self.bounds, self.column.numbers, side=side)
        return self._cache[side]

    def for_op(self, op: str, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
        at = np.array(positions, dtype=np.int64)
        if op in ("$gt", "$gte"):  # bounds below v (strictly for $gt): > j
            rank, limits = self._position("left" if op == "$gt" else "right"), at
        else:  # bounds above v (strictly for $lt): > count - j - 1
            rank = self.count - self._position("right" if op == "$lt" else "left")
            limits = self.count - at - 1
        dtype = _rank_dtype(self.count)
        rank = np.where(self.column.ordered, rank, 0).astype(dtype)
        return rank, limits.astype(dtype)


def literal_prefix(regex: re.Pattern) -> str:
    """The text every match starts with (``SH-`` for ``SH-[0-9]+``); empty when unknown."""
    if regex.flags & re.IGNORECASE:
        return ""
    try:
        parsed = re_parser.parse(regex.pattern, regex.flags)
    except re.error:
        return ""
    prefix = []
    for op, arg in parsed:
        if op is not re_constants.LITERAL:
            break
        prefix.append(chr(arg))
    return "".join(prefix)


def _matching(column: Column, regex: re.Pattern) -> list[int]:
    """Codes of the strings ``regex`` fully matches; with a literal prefix only the slice of
    sorted strings that start with it is tried."""
    strings, codes = column.strings
    prefix = literal_prefix(regex)
    low, high = 0, len(strings)
    if prefix and ord(prefix[-1]) < sys.maxunicode:
        low = bisect.bisect_left(strings, prefix)
        high = bisect.bisect_left(strings, prefix[:-1] + chr(ord(prefix[-1]) + 1), low)
    return [codes[i] for i in range(low, high) if regex.fullmatch(strings[i]) is not None]


def _combine(kind: str, masks: list[np.ndarray]) -> np.ndarray:
    if len(masks) == 1:
        return masks[0]
    join = np.logical_and if kind == AND else np.logical_or
    result = join(masks[0], masks[1])
    for mask in masks[2:]:
        join(result, mask, out=result)
    return result
