"""JSON Schema validation of definitions, reported as located author errors.

Every violation is reported (not only the first), with its JSON pointer and line; an unexpected
key is named, with the closest allowed key as a hint. A schema may give a friendlier message for a
keyword with ``"x-messages": {"pattern": "..."}``; ``{value}`` in it is replaced by the value.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from rules.errors import AuthorError
from rules.kinds import DEFINITION_SCHEMAS, ParsedDefinition
from rules.suggestions import hint
from rules.yamlsource import pointer_join

_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "an integer", "number": "a number", "boolean": "true or false",
               "null": "null"}


def type_word(value: Any) -> str:
    if isinstance(value, bool):
        return _TYPE_WORDS["boolean"]
    if isinstance(value, dict):
        return _TYPE_WORDS["object"]
    if isinstance(value, list):
        return _TYPE_WORDS["array"]
    if isinstance(value, int):
        return _TYPE_WORDS["integer"]
    if isinstance(value, float):
        return _TYPE_WORDS["number"]
    if value is None:
        return _TYPE_WORDS["null"]
    return _TYPE_WORDS["string"]


@lru_cache(maxsize=None)
def registry() -> Registry:
    """Every definition schema, by ``$id``, so kind schemas can ``$ref`` the envelope."""
    resources = []
    for file in sorted(DEFINITION_SCHEMAS.glob("*.schema.json")):
        schema = json.loads(file.read_text("utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def validator_for(schema_file: Path) -> Draft202012Validator:
    schema = json.loads(schema_file.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry())


def allowed_keys(schema: dict[str, Any]) -> set[str]:
    """Property names a schema declares, following ``$ref`` and ``allOf``."""
    keys = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        keys |= allowed_keys(part)
    if "$ref" in schema and "$id" in schema:
        resolved = registry().resolver(schema["$id"]).lookup(schema["$ref"]).contents
        keys |= allowed_keys(resolved)
    return keys


def schema_errors(doc: ParsedDefinition, schema_file: Path) -> list[AuthorError]:
    """Every violation of the kind's schema, deduplicated and sorted by position."""
    found: dict[tuple[str, str], AuthorError] = {}
    for error in validator_for(schema_file).iter_errors(doc.data):
        leaf = best_match([error]) if error.context else error
        for problem in _translate(doc, leaf):
            found.setdefault((problem.pointer or "", problem.message), problem)
    return sorted(found.values(), key=lambda e: e.sort_key)


def _translate(doc: ParsedDefinition, error: ValidationError) -> list[AuthorError]:
    pointer = pointer_join("", *error.absolute_path)
    keyword = error.validator
    value = error.instance
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(value, dict):
        allowed = allowed_keys(error.schema)
        if keyword == "unevaluatedProperties" and pointer == "":
            allowed |= _envelope_keys()
        unexpected = [key for key in value if key not in allowed]
        return [
            doc.error(pointer_join(pointer, key), f"unexpected key {key!r}",
                      hint(key, allowed), key=True)
            for key in unexpected
        ]
    if keyword == "required" and isinstance(value, dict):
        missing = [key for key in error.validator_value if key not in value]
        return [doc.error(pointer, f"missing required key {key!r}", key=True) for key in missing]
    custom = error.schema.get("x-messages", {}).get(keyword) if isinstance(error.schema, dict) else None
    if custom:
        return [doc.error(pointer, custom.replace("{value}", repr(value)))]
    if keyword == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        words = " or ".join(_TYPE_WORDS.get(name, name) for name in wanted)
        return [doc.error(pointer, f"expected {words}, got {type_word(value)}")]
    if keyword == "enum":
        choices = ", ".join(repr(choice) for choice in error.validator_value)
        suggestion = hint(str(value), [str(c) for c in error.validator_value])
        return [doc.error(pointer, f"{value!r} is not one of {choices}", suggestion)]
    if keyword in ("minItems", "minProperties") and error.validator_value == 1:
        return [doc.error(pointer, "must not be empty")]
    return [doc.error(pointer, error.message)]


def _envelope_keys() -> set[str]:
    envelope = json.loads((DEFINITION_SCHEMAS / "_envelope.schema.json").read_text("utf-8"))
    return set(envelope["properties"])
