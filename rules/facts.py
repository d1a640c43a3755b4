"""Fact schemas: the fields a predicate may read from a product, an order, a cart or an event.

A fact schema is a JSON Schema in ``schemas/facts/<fact>.schema.json``; objects list their
``properties``; an object with ``additionalProperties`` (true or a schema) accepts any key below it;
a list's ``items`` schema types what ``$iany``/``$iall`` read as ``$i``. A pack adds a field
``<pack>.<name>`` to a fact kind: its value sits at ``fact[<pack>][<name>]``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from pathlib import Path
from typing import Any

from schemas import PATH as SCHEMAS_PATH

from rules.suggestions import did_you_mean, hint
from rules.yamlsource import pointer_join

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
    """A resolved field: its types (``ANY`` when undeclared), whether null is allowed, its enum,
    and for a list the schema of its items."""

    types: frozenset[str]
    nullable: bool = False
    enum: tuple | None = None
    items: dict[str, Any] | None = dc_field(default=None, compare=False, hash=False)


class UnknownField(Exception):
    def __init__(self, message: str, hint_text: str | None, *, stale_pack: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint_text
        #: The pack namespace the path starts with, when that pack provides no fields here.
        self.stale_pack = stale_pack


#: An author-facing sentence (``message``) and the field names to suggest (``names``) for a path
#: unknown at the top of a schema, when "unknown field of <fact>" would mislead.
UNKNOWN_KEY = "x-vectis-unknown"

#: Marks the object a pack's fields live in (``<pack>.<name>``) inside a fact schema.
PACK_KEY = "x-vectis-pack"


def resolve(schema: dict[str, Any], path: tuple[str, ...], where: str,
            prefix: tuple[str, ...] = ()) -> Field:
    """Resolve ``path`` in ``schema``; ``where`` names it in messages (``product``, ``items of
    product.lines``), ``prefix`` is prepended to the paths those messages show."""
    for index, part in enumerate(path):
        types = _types(schema)
        if ARRAY in types and OBJECT not in types:
            shown = ".".join(prefix + path[:index])
            raise UnknownField(f"field {shown!r} of {where} is a list; reach into its items with "
                               f"$iany or $iall", None)
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
        siblings = [".".join((*prefix, *path[:index], name)) for name in properties]
        shown = ".".join(prefix + path)
        unknown = schema.get(UNKNOWN_KEY)
        if unknown:  # the schema explains what it holds instead (e.g. a machine's context only)
            raise UnknownField(f"unknown field {shown!r}: {unknown['message']}",
                               hint(shown, unknown.get("names", siblings)))
        stale = path[0] if index == 0 and len(path) > 1 and not prefix else None
        raise UnknownField(f"unknown field {shown!r} of {where}", hint(shown, siblings),
                           stale_pack=stale)
    types = _types(schema)
    items = None
    if ARRAY in types:  # an untyped list's items are ``any``
        items = schema["items"] if isinstance(schema.get("items"), dict) else {}
    nullable = "null" in _raw_types(schema)
    enum = tuple(schema["enum"]) if "enum" in schema else None
    return Field(types, nullable, enum, items)


@dataclass(frozen=True)
class FactCatalog:
    """Fact name → its JSON Schema (pack fields included, under ``properties[<pack>]``)."""

    schemas: dict[str, dict[str, Any]]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.schemas)

    def field(self, fact: str, path: tuple[str, ...]) -> Field:
        """Resolve a dotted path of ``fact``; raise :class:`UnknownField` when it does not exist."""
        return resolve(self.schemas[fact], path, fact)

    def pack_namespaces(self) -> frozenset[str]:
        """The packs that add fields to some fact."""
        return frozenset(name for schema in self.schemas.values()
                         for name, sub in schema.get("properties", {}).items() if PACK_KEY in sub)

    def with_pack_fields(self, fields: Iterable[tuple[str, str, str, dict[str, Any]]]) -> FactCatalog:
        """A catalog where each ``(pack, fact, name, schema)`` is readable as ``<pack>.<name>``.

        Raises ``ValueError`` for an unknown fact kind or a pack named like a core field.
        """
        fields = list(fields)
        if not fields:
            return self
        schemas = copy.deepcopy(self.schemas)
        for pack, fact, name, field_schema in fields:
            if fact not in schemas:
                raise ValueError(f"{pack}.{name}: unknown fact kind {fact!r}"
                                 f"{did_you_mean(fact, schemas)}")
            properties = schemas[fact].setdefault("properties", {})
            namespace = properties.setdefault(pack, {"type": "object", "additionalProperties": False,
                                                     "properties": {}, PACK_KEY: pack})
            if PACK_KEY not in namespace:
                raise ValueError(f"{pack}.{name}: pack {pack!r} is named like a field of {fact}")
            namespace["properties"][name] = field_schema
        return FactCatalog(schemas)


def check_pack_field(value: Any) -> None:
    """What a pack registers as a field: ``{"fact": <fact kind>, "schema": <JSON Schema>}``, and
    optionally ``"load"``: the function that supplies the values where the runtime builds that
    fact in bulk (``load(session, ids) -> {id: value}``; product and variant facts)."""
    if not isinstance(value, dict) or not {"fact", "schema"} <= set(value) <= {"fact", "schema", "load"}:
        raise TypeError("expected a mapping {fact: <fact kind>, schema: <JSON Schema>} with an optional load")
    if "load" in value and not callable(value["load"]):
        raise TypeError(f"load: expected a function (session, ids) -> {{id: value}}, got {type(value['load']).__name__}")
    names = default_catalog().names
    if value["fact"] not in names:
        raise ValueError(f"unknown fact kind {value['fact']!r}{did_you_mean(value['fact'], names)}")
    if not isinstance(value["schema"], dict) or not _raw_types(value["schema"]):
        raise ValueError("schema: a JSON Schema with a type (string, number, integer, boolean, "
                         "array, object)")


def _raw_types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _types(schema: dict[str, Any]) -> frozenset[str]:
    found = {_JSON_TYPES[name] for name in _raw_types(schema) if name in _JSON_TYPES}
    return frozenset(found) if found else frozenset({ANY})


def load_catalog(folder: Path) -> FactCatalog:
    """Every ``<fact>.schema.json`` in ``folder``; ``{"$ref": "<fact>.schema.json"}`` is inlined."""
    files = {file.name: json.loads(file.read_text("utf-8"))
             for file in sorted(folder.glob("*.schema.json"))}
    return FactCatalog({name.removesuffix(".schema.json"): _inline(schema, files, (name,))
                        for name, schema in files.items()})


def _inline(schema: Any, files: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(schema, list):
        return [_inline(item, files, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    target = schema.get("$ref")
    if isinstance(target, str) and target in files:
        if target in seen:
            raise ValueError(f"fact schema {seen[0]} refers to itself through {target}")
        return _inline(files[target], files, (*seen, target))
    return {key: _inline(value, files, seen) for key, value in schema.items()}


@lru_cache(maxsize=1)
def default_catalog() -> FactCatalog:
    """The shipped fact schemas (read once)."""
    return load_catalog(FACTS_PATH)


def unknown_given_fields(catalog: FactCatalog, fact: str, given: Any, pointer: str) -> list[tuple[str, str, str | None]]:
    """(pointer, message, hint) for each top-level key of an example's ``given`` that ``fact``
    does not have: a misspelt key would otherwise read as a missing value and fail the example
    for a reason the author cannot see."""
    if not isinstance(given, dict) or fact not in catalog.schemas:
        return []
    problems = []
    for key in given:
        try:
            catalog.field(fact, (str(key),))
        except UnknownField as exc:
            problems.append((pointer_join(pointer, key), exc.message, exc.hint))
    return problems
