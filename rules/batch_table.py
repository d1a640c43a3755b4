"""Facts as columns: the input of the batch evaluator (:mod:`rules.batch`).

A :class:`FactTable` holds a list of facts (dicts) and, per dotted field path, one
:class:`Column`: the raw values, a presence mask, integer codes of the distinct values (equality
and membership become integer tests), the numeric values as ``float64`` (ordering tests) and
each value's kind as durable_rules tells them apart (missing, null, number, string, other): within
a kind values compare as Python compares them; across kinds the evaluator asks
:func:`rules.values.compare_values` once per condition, so both follow one definition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from rules.facts import MISSING, get_path

#: Integers beyond this lose precision as float64; a column holding one is compared in Python.
EXACT_INT = 2**53

def equality_key(value: Any) -> Any:
    """The key under which ``value`` equals other values in a comparison, or ``None``.

    Numbers and booleans share keys the way Python hashes them (``True``, ``1`` and ``1.0`` are
    one key, as durable compares them); strings are their own keys. ``None``: equal to nothing
    (missing, null, NaN, a list, an object).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)) and value == value:
        return value
    return None


#: The kinds of value durable_rules tells apart (:func:`rules.values.compare_values`), as
#: a column stores them; a comparison across kinds has one answer per kind, whatever the value.
MISSING_KIND, NULL, NUMBER, STRING, OTHER = range(5)
#: One value of each kind, to ask ``compare_values`` what a comparison across kinds answers.
REPRESENTATIVES = (MISSING, None, 0, "", [])


def kind_of(value: Any) -> int:
    if value is MISSING:
        return MISSING_KIND
    if value is None:
        return NULL
    if isinstance(value, (bool, int, float)):
        return NUMBER
    return STRING if isinstance(value, str) else OTHER


def exact_number(value: Any) -> bool:
    """Whether float64 compares ``value`` exactly as Python does."""
    return not isinstance(value, int) or -EXACT_INT <= value <= EXACT_INT


@dataclass(frozen=True, eq=False)
class Column:
    """One field path over every fact of a table."""

    values: tuple  # the raw value per fact, MISSING when absent
    present: np.ndarray  # bool
    kinds: np.ndarray  # int8: MISSING_KIND, NULL, NUMBER, STRING or OTHER
    codes: np.ndarray  # int32: index into ``uniques``, -1 when the value equals nothing
    uniques: tuple  # one representative value per code
    index: dict  # equality key -> code
    numbers: np.ndarray  # float64 (booleans 0 and 1), NaN where the value is not a number
    ordered: np.ndarray  # bool: a number and not NaN
    exact: bool  # every number converts to float64 without loss

    @cached_property
    def strings(self) -> tuple[list[str], list[int]]:
        """The distinct strings, sorted, and their codes: values with a prefix are one slice."""
        pairs = sorted((value, code) for code, value in enumerate(self.uniques)
                       if isinstance(value, str))
        return [value for value, _ in pairs], [code for _, code in pairs]

    def code(self, value: Any) -> int:
        """The code of a constant, -1 when no fact holds an equal value."""
        key = equality_key(value)
        return -1 if key is None else self.index.get(key, -1)


def _read(facts: Sequence[Any], path: tuple[str, ...]) -> list[Any]:
    if len(path) == 1 and all(type(fact) is dict for fact in facts):
        name = path[0]
        return [fact.get(name, MISSING) for fact in facts]
    return [get_path(fact, path) for fact in facts]


def build_column(facts: Sequence[Any], path: tuple[str, ...]) -> Column:
    values = _read(facts, path)
    index: dict[Any, int] = {}
    uniques: list[Any] = []
    codes, numbers, kinds = [], [], []
    nan, exact = math.nan, True
    for value in values:
        cls = type(value)  # the common JSON types inline; anything else by the general rules
        if cls is str:
            key, number, kind = value, nan, STRING
        elif cls is int or cls is float or cls is bool:
            key = value if value == value else None
            exact = exact and (cls is not int or -EXACT_INT <= value <= EXACT_INT)
            number, kind = value, NUMBER
        else:
            key, kind = equality_key(value), kind_of(value)
            number = value if kind == NUMBER else nan
            exact = exact and (kind != NUMBER or exact_number(value))
        if key is None:
            codes.append(-1)
        else:
            code = index.get(key)
            if code is None:
                code = index[key] = len(uniques)
                uniques.append(value)
            codes.append(code)
        numbers.append(number)
        kinds.append(kind)
    kinds_array = np.array(kinds, dtype=np.int8)
    numbers_array = np.array(numbers, dtype=float) if numbers else np.zeros(0)
    arrays = (kinds_array != MISSING_KIND, kinds_array, np.array(codes, dtype=np.int32),
              numbers_array, ~np.isnan(numbers_array))
    for array in arrays:
        array.flags.writeable = False  # shared by every evaluation of the table
    present, kinds_array, codes_array, numbers_array, ordered = arrays
    return Column(tuple(values), present, kinds_array, codes_array, tuple(uniques), index,
                  numbers_array, ordered, exact)


class FactTable:
    """Immutable facts in columns, built once (e.g. from a catalog snapshot) and evaluated often.

    ``paths`` are extracted up front, and the strings of ``sorted_paths`` sorted (what regex
    tests read); any other path is extracted on first use and kept.
    """

    def __init__(self, facts: Iterable[Any], paths: Iterable[tuple[str, ...]] = (),
                 sorted_paths: Iterable[tuple[str, ...]] = ()):
        self.facts: tuple = tuple(facts)
        self._columns: dict[tuple[str, ...], Column] = {}
        for path in paths:
            self.column(tuple(path))
        for path in sorted_paths:
            self.column(tuple(path)).strings  # noqa: B018 - computed once, kept

    def __len__(self) -> int:
        return len(self.facts)

    def column(self, path: tuple[str, ...]) -> Column:
        found = self._columns.get(path)
        if found is None:
            found = self._columns[path] = build_column(self.facts, path)
        return found

    @property
    def paths(self) -> frozenset[tuple[str, ...]]:
        """The paths extracted so far."""
        return frozenset(self._columns)
