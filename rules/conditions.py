"""Predicate conditions: durable_rules' JSON condition language, checked against a fact schema and
parsed into a small tree (compiled by :mod:`rules.predicates` and :mod:`rules.closures`). ``docs/predicates.md`` is the
merchandiser's guide; every form below was probed against durable_rules 2.0.28.

Canonical forms (durable_rules): ``{field: value}`` (equality), ``{$lt|$lte|$gt|$gte|$neq:
{field: value}}``, ``{$ex|$nex: {field: 1}}``, ``{$mt|$imt: {field: pattern}}`` (whole value,
:mod:`rules.patterns` dialect), ``{$and|$or: [...]}``, ``{$iany|$iall: {list: condition}}`` where the
condition reads the current item as ``$i`` (``$i.qty`` for an object item), and as a compared value
``{$m: field}`` (another field of the fact) or ``{$add|$sub|$mul|$div: {$l: operand, $r: operand}}``.
Several keys in one mapping all have to hold. Friendly aliases map one-to-one: ``{field: {lt: 20}}``
(also ``lte gt gte eq neq``), ``{field: {in: [a, b]}}`` (``$or`` of equalities), ``{field: {exists:
true|false}}`` (``$ex``/``$nex``), ``matches``/``imatches`` (``$mt``/``$imt``), ``{list: {any|all:
condition}}`` (``$iany``/``$iall``), and as operands ``{field: name}`` (``$m``) and ``{add|sub|mul|div:
[left, right]}``. Vectis adds ``{$fn: <pack>.<name>}``, a predicate function from a pack. Paths are
dotted (``price.amount``); a pack's field is ``<pack>.<name>``.
"""

from __future__ import annotations

import json
import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Protocol, Union

from rules.facts import ANY, ARRAY, BOOLEAN, NUMBER, STRING, Field, UnknownField, resolve
from rules.patterns import PatternError, parse_pattern
from rules.suggestions import hint
from rules.yamlsource import pointer_join

_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_SYMBOLS = {"$eq": "==", "$neq": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
GROUPS = ("$and", "$or")
QUANTIFIERS = ("$iany", "$iall")
ARITHMETIC = {"$add": "+", "$sub": "-", "$mul": "*", "$div": "/"}
FIELD_OPERATORS = ("$lt", "$lte", "$gt", "$gte", "$neq", "$ex", "$nex", "$mt", "$imt")
OPERATORS = (*GROUPS, *QUANTIFIERS, *FIELD_OPERATORS, "$fn")
ALIASES = {"eq": "$eq", "neq": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte",
           "in": "in", "exists": "exists", "matches": "$mt", "imatches": "$imt",
           "any": "$iany", "all": "$iall"}
#: Operand forms: ``{$m: field}`` and arithmetic, with their friendly aliases.
OPERAND_ALIASES = {"field": "$m", "add": "$add", "sub": "$sub", "mul": "$mul", "div": "$div"}
OPERAND_KEYS = frozenset({"$m", *ARITHMETIC, *OPERAND_ALIASES})
#: The current item of a list, inside ``$iany``/``$iall``.
ITEM = "$i"
#: Integers beyond this lose exactness in durable_rules (it compares int with float as doubles).
MAX_EXACT_INT = 2 ** 53


class Report(Protocol):
    def __call__(self, pointer: str, message: str, hint: str | None = None, *,
                 key: bool = False) -> None: ...


# -- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class All:
    items: tuple
    pointer: str


@dataclass(frozen=True)
class AnyOf:
    items: tuple
    pointer: str


@dataclass(frozen=True)
class Compare:
    """A field compared with a literal."""

    op: str  # $eq $neq $lt $lte $gt $gte
    path: tuple[str, ...]
    value: Any
    pointer: str
    field_pointer: str


@dataclass(frozen=True)
class Exists:
    path: tuple[str, ...]
    present: bool
    pointer: str
    field_pointer: str


@dataclass(frozen=True)
class Matches:
    """``$mt`` (or ``$imt``: ``ignore_case``); ``pattern`` is durable's text, checked."""

    path: tuple[str, ...]
    pattern: str
    pointer: str
    field_pointer: str
    ignore_case: bool = False


@dataclass(frozen=True)
class Call:
    name: str
    pointer: str


@dataclass(frozen=True)
class Ref:
    """``{$m: field}``: a field of the fact (never of the current item: durable reads the fact)."""

    path: tuple[str, ...]
    pointer: str


@dataclass(frozen=True)
class Arith:
    op: str  # $add $sub $mul $div
    left: Operand
    right: Operand
    pointer: str


Operand = Union[int, float, Ref, Arith]


@dataclass(frozen=True)
class CompareExpr:
    """A field compared with another field or an arithmetic expression of fields."""

    op: str  # $eq $neq $lt $lte $gt $gte
    path: tuple[str, ...]
    operand: Ref | Arith
    pointer: str
    field_pointer: str


@dataclass(frozen=True)
class Quantified:
    """``$iany``/``$iall``: ``item`` holds for any/every item of the list at ``path``."""

    quantifier: str
    path: tuple[str, ...]
    item: Node
    pointer: str
    field_pointer: str


Node = Union[All, AnyOf, Compare, Exists, Matches, Call, CompareExpr, Quantified]


def dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def refs(operand: Any) -> list[Ref]:
    """The field references of an operand, left to right."""
    if isinstance(operand, Ref):
        return [operand]
    if isinstance(operand, Arith):
        return refs(operand.left) + refs(operand.right)
    return []


def describe_operand(operand: Any) -> str:
    if isinstance(operand, Ref):
        return dotted(operand.path)
    if isinstance(operand, Arith):
        return f"({describe_operand(operand.left)} {ARITHMETIC[operand.op]} " \
               f"{describe_operand(operand.right)})"
    return repr(operand)


# -- parsing ---------------------------------------------------------------------------------


def parse(data: Any, pointer: str, report: Report, item: bool = False) -> Node | None:
    """The tree for a predicate mapping; structural problems are reported, ``None`` returned.

    ``item``: inside ``$iany``/``$iall``, where fields are read from the current item ``$i``.
    """
    if not isinstance(data, dict) or not data:
        report(pointer, "a condition must be a non-empty mapping")
        return None
    items = []
    for key, value in data.items():
        here = pointer_join(pointer, key)
        key = str(key)
        if key in GROUPS:
            items.append(_group(key, value, here, report, item))
        elif key == "$fn":
            items.append(_call(value, here, report, item))
        elif key in QUANTIFIERS or key in FIELD_OPERATORS:
            items.extend(_canonical(key, value, here, report, item))
        elif key.startswith("$") and not _is_item_path(key):
            report(here, f"unknown operator {key!r}", hint(key, OPERATORS), key=True)
        elif isinstance(value, dict) and not _is_operand(value):
            items.extend(_friendly(key, value, here, report, item))
        else:
            items.append(_compare("$eq", key, value, here, here, report, item))
    items = [node for node in items if node is not None]  # check what did parse, too
    if not items:
        return None
    return items[0] if len(items) == 1 else All(tuple(items), pointer)


def _is_item_path(key: str) -> bool:
    return key == ITEM or key.startswith(ITEM + ".")


def _is_operand(value: dict) -> bool:
    return len(value) == 1 and next(iter(value)) in OPERAND_KEYS


def _call(value: Any, pointer: str, report: Report, item: bool) -> Call | None:
    if item:
        report(pointer, "$fn cannot be used inside $iany/$iall (a function reads the whole fact)")
    elif not isinstance(value, str) or not value:
        report(pointer, "$fn needs the name of a predicate function (<pack>.<name>)")
    else:
        return Call(value, pointer)
    return None


def _group(key: str, value: Any, pointer: str, report: Report, item: bool) -> Node | None:
    if not isinstance(value, list) or not value:
        report(pointer, f"{key} needs a non-empty list of conditions")
        return None
    if item and key == "$or":
        # durable_rules, the reference engine, misreads it: an item with p: 0, q: 'a' fails
        # {$or: [{$i.p: 0}, {$i.q: 'zz'}]} there (tests/rules/test_differential.py found it).
        report(pointer, "$or cannot be used inside $iany/$iall (durable_rules evaluates it wrongly there)",
               "write one quantifier per alternative: {$or: [{$iany: {list: A}}, {$iany: {list: B}}]}")
        return None
    items = [parse(entry, pointer_join(pointer, i), report, item) for i, entry in enumerate(value)]
    items = [node for node in items if node is not None]
    if len(items) != len(value):
        return None
    return (All if key == "$and" else AnyOf)(tuple(items), pointer)


def _canonical(op: str, value: Any, pointer: str, report: Report, item: bool) -> list[Node | None]:
    if not isinstance(value, dict) or not value:
        what = "condition" if op in QUANTIFIERS else "value"
        report(pointer, f"{op} needs a mapping of field: {what}")
        return [None]
    return [_operator(op, str(name), operand, pointer_join(pointer, name), pointer_join(pointer, name),
                      report, item) for name, operand in value.items()]


def _friendly(name: str, ops: dict, pointer: str, report: Report, item: bool) -> list[Node | None]:
    if not ops:
        report(pointer, f"no operator given for field {name!r}")
        return [None]
    result: list[Node | None] = []
    for alias, operand in ops.items():
        here = pointer_join(pointer, alias)
        op = ALIASES.get(alias, alias if alias in FIELD_OPERATORS or alias in QUANTIFIERS else None)
        if op is None:
            report(here, f"unknown operator {alias!r}", hint(alias, ALIASES), key=True)
            result.append(None)
        elif op == "in":
            result.append(_in(name, operand, here, pointer, report, item))
        elif op == "exists":
            if not isinstance(operand, bool):
                report(here, "exists takes true or false")
                result.append(None)
                continue
            result.append(_operator("$ex" if operand else "$nex", name, operand, here, pointer,
                                    report, item))
        else:
            result.append(_operator(op, name, operand, here, pointer, report, item))
    return result


def _operator(op, name, operand, pointer, field_pointer, report, item) -> Node | None:
    if op in ("$ex", "$nex"):
        path = _path(name, field_pointer, report, item)
        return path and Exists(path, op == "$ex", pointer, field_pointer)
    if op in ("$mt", "$imt"):
        return _matches(op, name, operand, pointer, field_pointer, report, item)
    if op in QUANTIFIERS:
        path = _path(name, field_pointer, report, item)
        inner = parse(operand, pointer, report, item=True)
        return path and inner and Quantified(op, path, inner, pointer, field_pointer)
    return _compare(op, name, operand, pointer, field_pointer, report, item)


def _in(name, operand, pointer, field_pointer, report, item):
    if not isinstance(operand, list) or not operand:
        report(pointer, "in needs a non-empty list of values")
        return None
    items = [_compare("$eq", name, value, pointer_join(pointer, i), field_pointer, report, item)
             for i, value in enumerate(operand)]
    if any(node is None for node in items):
        return None
    return items[0] if len(items) == 1 else AnyOf(tuple(items), pointer)


def _path(name: str, pointer: str, report: Report, item: bool) -> tuple[str, ...] | None:
    parts = tuple(name.split("."))
    if not all(parts) or ITEM in parts[1:]:
        report(pointer, f"invalid field path {name!r}", key=True)
        return None
    if parts[0] == ITEM and not item:
        report(pointer, f"{ITEM} (the current item) can only be used inside $iany/$iall", key=True)
        return None
    if item and parts[0] != ITEM:
        report(pointer, f"inside $iany/$iall fields are read from the current item: write "
                        f"'{ITEM}.{name}' (or '{ITEM}' for the item itself)", key=True)
        return None
    return parts


def _number_problem(value: Any) -> str | None:
    if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
        return f"{value!r} is too large: durable_rules compares integers exactly up to 2**53"
    if isinstance(value, float) and (not math.isfinite(value) or "e" in repr(value)):
        return f"{value!r} cannot be read by durable_rules (write decimals without an exponent, " \
               f"between 0.0001 and 10**16)"
    return None


def _compare(op, name, value, pointer, field_pointer, report, item) -> Node | None:
    path = _path(name, field_pointer, report, item)
    if path is None:
        return None
    if isinstance(value, dict):
        operand = _operand(value, pointer, report)  # a mapping: a field or arithmetic
        return operand and CompareExpr(op, path, operand, pointer, field_pointer)
    if value is None:
        report(pointer, f"cannot compare {name!r} with null", "use exists: false")
        return None
    if isinstance(value, list):
        report(pointer, f"expected a single value to compare {name!r} with")
        return None
    if op in _ORDER and (isinstance(value, bool) or not isinstance(value, (int, float))):
        report(pointer, f"{op} needs a number, got {value!r}")
        return None
    if (problem := _number_problem(value)) is not None:
        report(pointer, problem)
        return None
    return Compare(op, path, value, pointer, field_pointer)


def _operand(data: Any, pointer: str, report: Report) -> Operand | None:
    """A number, ``{$m: field}`` or arithmetic; ``None`` (reported) otherwise."""
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        if (problem := _number_problem(data)) is not None:
            report(pointer, problem)
            return None
        return data
    if not isinstance(data, dict) or not _is_operand(data):
        report(pointer, f"expected a number, {{$m: field}} or arithmetic "
                        f"($add/$sub/$mul/$div), got {data!r}")
        return None
    key, value = next(iter(data.items()))
    here = pointer_join(pointer, key)
    op = OPERAND_ALIASES.get(key, key)
    if op == "$m":
        if not isinstance(value, str) or not value:
            report(here, f"{key} needs a field name")
            return None
        path = _path(value, here, report, item=False)
        return path and Ref(path, here)
    if key in ARITHMETIC:  # canonical: {$l: left, $r: right}
        if not isinstance(value, dict) or set(value) != {"$l", "$r"}:
            report(here, f"{key} needs {{$l: left, $r: right}}")
            return None
        sides = [(value["$l"], pointer_join(here, "$l")), (value["$r"], pointer_join(here, "$r"))]
    else:  # friendly: [left, right]
        if not isinstance(value, list) or len(value) != 2:
            report(here, f"{key} needs a list of two operands [left, right]")
            return None
        sides = [(side, pointer_join(here, i)) for i, side in enumerate(value)]
    left, right = (_operand(side, where, report) for side, where in sides)
    if left is None or right is None:
        return None
    if op == "$div" and not isinstance(right, (Ref, Arith)) and right == 0:
        report(sides[1][1], "division by zero")
        return None
    node = Arith(op, left, right, here)
    if not refs(node):
        report(here, "arithmetic needs a field ({$m: field}) on at least one side: "
                     "durable_rules never matches arithmetic of constants")
        return None
    return node


def _matches(op, name, pattern, pointer, field_pointer, report, item) -> Matches | None:
    path = _path(name, field_pointer, report, item)
    if path is None:
        return None
    if not isinstance(pattern, str):
        report(pointer, f"{op} needs a pattern (a string), got {pattern!r}")
        return None
    try:
        parse_pattern(pattern, op == "$imt")
    except PatternError as exc:
        report(pointer, f"invalid regular expression {pattern!r}: {exc.message} at position {exc.position}")
        return None
    return Matches(path, pattern, pointer, field_pointer, op == "$imt")


# -- type checking -----------------------------------------------------------------------------


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    return NUMBER if isinstance(value, (int, float)) else STRING


@dataclass(frozen=True)
class _Scope:
    """Where paths resolve: the fact, and inside ``$iany``/``$iall`` the items of a list."""

    fact: str
    items: dict | None = None
    where: str | None = None


def check(node: Node, fact: str | None, env: Any, report: Report) -> None:
    """Report fields unknown to ``fact`` and operators that do not suit a field's type."""
    _check(node, None if fact is None else _Scope(fact), env, report)


def _check(node: Node, scope: _Scope | None, env: Any, report: Report) -> None:
    if isinstance(node, (All, AnyOf)):
        for child in node.items:
            _check(child, scope, env, report)
        return
    if isinstance(node, Call):
        _check_call(node, env, report)
        return
    if scope is None:
        return
    spec = _field(node.path, node.field_pointer, scope, env, report)
    operand_types = _check_operand(node.operand, scope, env, report) \
        if isinstance(node, CompareExpr) else None
    if spec is None or ANY in spec.types:
        if isinstance(node, Quantified) and spec is not None:
            _check(node.item, _Scope(scope.fact, {}, _items_of(node, scope)), env, report)
        return
    name = dotted(node.path)
    where = scope.where or scope.fact
    types = " or ".join(sorted(spec.types))
    if isinstance(node, Quantified):
        if ARRAY not in spec.types:
            report(node.pointer, f"{node.quantifier} needs a list, but {name!r} is a {types} "
                                 f"field of {where}")
            return
        _check(node.item, _Scope(scope.fact, spec.items or {}, _items_of(node, scope)), env, report)
    elif isinstance(node, Matches) and STRING not in spec.types:
        op = "$imt" if node.ignore_case else "$mt"
        report(node.pointer, f"{op} matches strings, but {name!r} is a {types} field of {where}")
    elif isinstance(node, (Compare, CompareExpr)) and node.op in _ORDER and NUMBER not in spec.types:
        report(node.pointer, f"{node.op} compares numbers, but {name!r} is a {types} field of {where}")
    elif isinstance(node, CompareExpr):
        if operand_types is not None and ANY not in operand_types and not operand_types & spec.types:
            other = " or ".join(sorted(operand_types))
            report(node.pointer, f"{name!r} is a {types} field of {where}; "
                                 f"{describe_operand(node.operand)} is a {other}")
    elif isinstance(node, Compare) and _value_type(node.value) not in spec.types:
        report(node.pointer, *_type_mismatch(name, spec, where, node))
    elif isinstance(node, Compare) and spec.enum is not None and node.value not in spec.enum:
        allowed = ", ".join(repr(choice) for choice in spec.enum)
        report(node.pointer, f"{node.value!r} is not a value of {name!r} (one of {allowed})",
               hint(str(node.value), [str(choice) for choice in spec.enum]))


def _type_mismatch(name: str, spec: Field, where: str, node: Compare) -> tuple[str, str | None]:
    """A value of the wrong type for a field; for a list field, how to test its items."""
    if ARRAY in spec.types and node.op == "$eq":
        item = _yaml_scalar(node.value)
        return (f"{name!r} is a list field of {where}, so it never equals the single value "
                f"{node.value!r}", f"to match a list that holds {node.value!r}, write "
                f"'{name}: {{any: {{$i: {item}}}}}'")
    types = " or ".join(_TYPE_NOUNS.get(t, t) for t in sorted(spec.types))
    article = "an" if types[:1] in "aeiou" else "a"
    return (f"{name!r} is {article} {types} field of {where}; {node.value!r} is "
            f"{_ARTICLED.get(_value_type(node.value), _value_type(node.value))}", None)


#: JSON Schema type names as an author reads them.
_TYPE_NOUNS = {ARRAY: "list", "object": "mapping"}
_ARTICLED = {STRING: "a string", NUMBER: "a number", BOOLEAN: "a boolean"}


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ .-]*", value):
        return value
    return json.dumps(value)


def _items_of(node: Quantified, scope: _Scope) -> str:
    inner = dotted(node.path[1:]) if node.path[0] == ITEM else dotted(node.path)
    owner = scope.where if node.path[0] == ITEM else scope.fact
    return f"the items of {owner}{'.' if inner else ''}{inner}"


def _field(path, pointer, scope: _Scope, env, report) -> Field | None:
    """Resolve a path in ``scope`` (``$i…`` in the items), reporting an unknown or stale one."""
    try:
        if path[0] == ITEM:
            return resolve(scope.items or {}, path[1:], scope.where, prefix=(ITEM,))
        return env.facts.field(scope.fact, path)
    except UnknownField as exc:
        pack = exc.stale_pack
        if pack is not None and exc.hint is None and pack not in installed_packs(env):
            report(pointer, f"field {dotted(path)!r} belongs to pack {pack!r}, which is not "
                            f"installed", key=True)
        elif pack is not None and pack in installed_packs(env):
            report(pointer, f"unknown field {dotted(path)!r} of {scope.fact}: pack {pack!r} adds "
                            f"no such field to {scope.fact}", key=True)
        else:
            report(pointer, exc.message, exc.hint, key=True)
        return None


def _check_operand(operand, scope: _Scope, env, report) -> frozenset[str] | None:
    """The types an operand can have (``None`` if a reference failed); reports bad references."""
    if isinstance(operand, Ref):
        spec = _field(operand.path, operand.pointer, _Scope(scope.fact), env, report)
        return None if spec is None else spec.types
    if isinstance(operand, Arith):
        ok = True
        for ref in refs(operand):
            types = _check_operand(ref, scope, env, report)
            if types is None:
                ok = False
            elif ANY not in types and NUMBER not in types:
                shown = " or ".join(sorted(types))
                report(ref.pointer, f"arithmetic needs numbers, but {dotted(ref.path)!r} is a "
                                    f"{shown} field of {scope.fact}")
                ok = False
        return frozenset({NUMBER}) if ok else None
    return frozenset({NUMBER})


def installed_packs(env: Any) -> frozenset[str]:
    """Pack namespaces a name may start with: told by the environment, else inferred."""
    if getattr(env, "packs", None) is not None:
        return env.packs
    return env.facts.pack_namespaces() | {name.partition(".")[0] for name in env.predicate_functions}


def _check_call(node: Call, env: Any, report: Report) -> None:
    functions = env.predicate_functions
    if node.name in functions:
        return
    pack, dot, _ = node.name.partition(".")
    if not dot:
        report(node.pointer, f"predicate function names are <pack>.<name>, got {node.name!r}",
               hint(node.name, functions))
    elif pack not in installed_packs(env) and hint(node.name, functions) is None:
        report(node.pointer, f"predicate function {node.name!r} belongs to pack {pack!r}, which is "
                             f"not installed")
    else:
        report(node.pointer, f"unknown predicate function {node.name!r}", hint(node.name, functions))
