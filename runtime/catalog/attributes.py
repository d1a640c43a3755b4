"""Typed attribute values: what a product or variant may store under an attribute's code.

``text`` and ``select`` values are strings (a select's among its choices), ``boolean`` values
booleans, and ``number`` values canonical decimal strings (``"230"``, ``"1.5"``): exact, and
comparable as text when search filters by them.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from runtime.catalog.errors import CatalogErrorCode as Code
from runtime.catalog.models import Attribute
from runtime.errors import BusinessError

TYPES = ("text", "number", "boolean", "select")
TEXT_MAX = 500


def canonical_number(value: Any) -> str | None:
    """``"1.50"`` → ``"1.5"``, ``230`` → ``"230"``; ``None`` for anything that is not a finite number."""
    if isinstance(value, bool) or isinstance(value, float):
        return None  # a float is not exact; clients send numbers as strings or integers
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    text = format(number.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def typed_value(attribute: Attribute, value: Any, field: str) -> Any:
    """``value`` as stored for ``attribute``, or ``INVALID_ATTRIBUTE_VALUE`` naming ``field``."""
    def refuse(expected: str) -> BusinessError:
        return BusinessError(Code.INVALID_ATTRIBUTE_VALUE,
                             f"{field}: attribute {attribute.code!r} expects {expected}, got {value!r}", field=field)

    if attribute.type == "number":
        number = canonical_number(value)
        if number is None:
            raise refuse("a decimal number (as a string or an integer)")
        return number
    if attribute.type == "boolean":
        if not isinstance(value, bool):
            raise refuse("true or false")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX:
        raise refuse(f"a text of 1 to {TEXT_MAX} characters")
    if attribute.type == "select" and value not in attribute.choices:
        raise refuse(f"one of {', '.join(attribute.choices)}")
    return value


def typed_values(definitions: dict[str, Attribute], values: dict[str, Any] | None, prefix: str,
                 problems: list[BusinessError]) -> dict[str, Any]:
    """Every value typed by its attribute; each problem is appended to ``problems``."""
    typed: dict[str, Any] = {}
    for code, value in (values or {}).items():
        field = f"{prefix}.{code}"
        attribute = definitions.get(code)
        if attribute is None:
            problems.append(BusinessError(Code.UNKNOWN_ATTRIBUTE, f"{field}: no attribute {code!r}", field=field))
            continue
        try:
            typed[code] = typed_value(attribute, value, field)
        except BusinessError as exc:
            problems.append(exc)
    return typed
