"""durable_rules' value semantics, the one definition both evaluators follow.

:func:`compare_values` and :func:`reduce_values` say what durable_rules answers for a comparison
or an arithmetic step on two JSON values (probed on durable_rules 2.0.28, checked by
tests/rules/test_differential.py); :func:`literal_types` derives from them what a comparison with
a literal reduces to, so compiled closures and generated code can specialize without restating
the rules.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from rules.conditions import _ORDER
from rules.facts import MISSING

_COMPARE = {"$eq": operator.eq, "$neq": operator.ne, **_ORDER}
_REDUCE = {"$add": operator.add, "$sub": operator.sub, "$mul": operator.mul}



NUMBERS = (bool, int, float)  # durable's numbers: booleans are 0 and 1
KIND_TYPES = {"number": NUMBERS, "string": (str,)}
#: One value of each kind durable tells apart (and MISSING).
_SAMPLES = {"missing": MISSING, "null": None, "number": 0, "string": "", "other": []}


def value_kind(value: Any) -> str:
    """durable's view of a JSON value: booleans are the numbers 0 and 1."""
    if value is None:
        return "null"
    if isinstance(value, NUMBERS):
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
    left, right = value_kind(actual), value_kind(expected)
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


def literal_types(op: str, constant: Any) -> tuple[tuple[type, ...], tuple[type, ...]] | None:
    """How ``compare_values(op, value, constant)`` reads for a literal ``constant``: ``(same,
    across)`` where a value of a ``same`` type gives ``value <op> constant`` and any other value
    gives ``isinstance(value, across)``. ``None`` when it is not that simple (a null constant,
    ``<=``/``>=`` between booleans…)."""
    kind = value_kind(constant)
    if kind not in KIND_TYPES or (op in ("$lte", "$gte") and isinstance(constant, bool)):
        return None
    answers = {other: compare_values(op, sample, constant)
               for other, sample in _SAMPLES.items() if other != kind}
    if answers.pop("missing") or answers.pop("null") or answers.pop("other"):
        return None
    (other, holds), = answers.items()
    return KIND_TYPES[kind], (KIND_TYPES[other] if holds else ())
