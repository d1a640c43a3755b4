"""Fact schemas: the fields a predicate may read from a product, an order, a cart or an event.

A fact schema is a JSON Schema in ``schemas/facts/<fact>.schema.json``; objects list their
``properties``; an object with ``additionalProperties`` (true or a schema) accepts any key below it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from schemas import PATH as SCHEMAS_PATH

from rules.suggestions import hint

#: Folder of the shipped fact schemas.
FACTS_PATH = SCHEMAS_PATH / "facts"

#: Field types a predicate distinguishes; ``any`` means not declared (no type checks).
NUMBER, STRING, BOOLEAN, OBJECT, ARRAY, ANY = "number", "string", "boolean", "object", "array", "any"
_JSON_TYPES = {"integer": NUMBER, "number": NUMBER, "string": STRING, "boolean": BOOLEAN,
               "object": OBJECT, "array": ARRAY}


class _Missing:
    """The marker for a field absent from a fact."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def get_path(fact: Any, path: tuple[str, ...]) -> Any:
    """The value at a dotted path of a fact, or :data:`MISSING`."""
    value = fact
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


@dataclass(frozen=True)
class Field:
    """A resolved field: its types (``ANY`` when undeclared), whether null is allowed, its enum."""

    types: frozenset[str]
    nullable: bool = False
    enum: tuple | None = None


class UnknownField(Exception):
    def __init__(self, message: str, hint_text: str | None):
        super().__init__(message)
        self.message = message
        self.hint = hint_text


@dataclass(frozen=True)
class FactCatalog:
    """Fact name → its JSON Schema."""

    schemas: dict[str, dict[str, Any]]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.schemas)

    def field(self, fact: str, path: tuple[str, ...]) -> Field:
        """Resolve a dotted path of ``fact``; raise :class:`UnknownField` when it does not exist."""
        schema = self.schemas[fact]
        for index, part in enumerate(path):
            types = _types(schema)
            if ARRAY in types and OBJECT not in types:
                where = ".".join(path[:index])
                raise UnknownField(
                    f"field {where!r} of {fact} is a list; a path cannot reach into it", None
                )
            properties = schema.get("properties", {})
            if part in properties:
                schema = properties[part]
                continue
            extra = schema.get("additionalProperties", True)
            if isinstance(extra, dict):
                schema = extra
                continue
            if extra:
                return Field(frozenset({ANY}), True)
            prefix = ".".join(path[:index])
            siblings = [f"{prefix}.{name}" if prefix else name for name in properties]
            dotted = ".".join(path)
            raise UnknownField(f"unknown field {dotted!r} of {fact}", hint(dotted, siblings))
        types = _types(schema)
        nullable = "null" in _raw_types(schema)
        enum = tuple(schema["enum"]) if "enum" in schema else None
        return Field(types, nullable, enum)


def _raw_types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _types(schema: dict[str, Any]) -> frozenset[str]:
    found = {_JSON_TYPES[name] for name in _raw_types(schema) if name in _JSON_TYPES}
    return frozenset(found) if found else frozenset({ANY})


def load_catalog(folder: Path) -> FactCatalog:
    """Every ``<fact>.schema.json`` in ``folder``."""
    schemas = {}
    for file in sorted(folder.glob("*.schema.json")):
        schemas[file.name.removesuffix(".schema.json")] = json.loads(file.read_text("utf-8"))
    return FactCatalog(schemas)


@lru_cache(maxsize=1)
def default_catalog() -> FactCatalog:
    """The shipped fact schemas (read once)."""
    return load_catalog(FACTS_PATH)
