"""References between the events of a sequence: ``account_id: {first: account_id}``.

durable_rules compares a field of the event being matched with a field of an event matched
earlier in the same rule, written ``{field: {alias: field}}`` (equality) or
``{$gt: {field: {alias: field}}}``. The predicate language reads single events only, so these
tests are taken out of a condition's top level here, checked against the earlier aliases and
the event schema, and put back into the durable_rules JSON after the rest was compiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.conditions import ALIASES
from rules.facts import NUMBER, UnknownField
from rules.suggestions import hint
from rules.yamlsource import pointer_join

#: Operators that may compare with another event's field (equality is the plain form).
REFERENCE_OPERATORS = ("$lt", "$lte", "$gt", "$gte", "$neq")


@dataclass(frozen=True)
class Reference:
    """``field <op> alias.other``: a test of this event against an earlier one."""

    op: str  # "$eq" or one of REFERENCE_OPERATORS
    field: str
    alias: str
    other: str
    pointer: str  # of the ``{alias: other}`` mapping

    def to_durable(self) -> dict[str, Any]:
        operand = {self.field: {self.alias: self.other}}
        return operand if self.op == "$eq" else {self.op: operand}


def _is_reference(value: Any) -> bool:
    """``{alias: field}``: one key that is neither an operator nor a friendly alias."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and not key.startswith("$") and key not in ALIASES


def split_references(body: dict[str, Any], pointer: str) -> tuple[dict[str, Any], list[Reference]]:
    """``body`` without its top-level reference tests, and those tests."""
    rest: dict[str, Any] = {}
    references: list[Reference] = []
    for key, value in body.items():
        here = pointer_join(pointer, key)
        if key in REFERENCE_OPERATORS and isinstance(value, dict):
            kept = {}
            for name, operand in value.items():
                if _is_reference(operand):
                    references.append(_reference(key, name, operand, pointer_join(here, name)))
                else:
                    kept[name] = operand
            if kept:
                rest[key] = kept
        elif not key.startswith("$") and _is_reference(value):
            references.append(_reference("$eq", key, value, here))
        else:
            rest[key] = value
    return rest, references


def _reference(op: str, name: str, operand: dict, pointer: str) -> Reference:
    ((alias, other),) = operand.items()
    return Reference(op, name, alias, str(other), pointer)


def check_reference(ref: Reference, earlier: list[str], later: list[str], absent: set[str],
                    env: Any, fact: str, report: Any) -> None:
    """Report a reference to an unknown, later or absent alias, or to fields that do not fit."""
    alias_pointer = pointer_join(ref.pointer, ref.alias)
    if ref.alias in absent:
        report(alias_pointer, f"{ref.alias!r} is an absence ($not): it matches no event, so it "
               "has no fields to refer to", key=True)
    elif ref.alias in later:
        report(alias_pointer, f"{ref.alias!r} comes later in the sequence; a reference can only "
               "name an earlier event", key=True)
    elif ref.alias not in earlier:
        report(alias_pointer, f"unknown alias {ref.alias!r} in a reference",
               hint(ref.alias, earlier + later) or
               (f"earlier events: {', '.join(earlier)}" if earlier else None), key=True)
    for name, where in ((ref.field, ref.pointer), (ref.other, alias_pointer)):
        try:
            spec = env.facts.field(fact, tuple(name.split(".")))
        except UnknownField as exc:
            report(where, exc.message, exc.hint, key=where == ref.pointer)
            continue
        if ref.op not in ("$eq", "$neq") and NUMBER not in spec.types and "any" not in spec.types:
            types = " or ".join(sorted(spec.types))
            report(where, f"{ref.op} compares numbers, but {name!r} is a {types} field of {fact}")
