"""JSON Schema validation of definitions, reported as located author errors.

Every violation is reported (not only the first), with its JSON pointer and line; an unexpected
key is named, with the closest allowed key as a hint. A schema may give a friendlier message for a
keyword with ``"x-messages": {"pattern": "..."}``; ``{value}`` in it is replaced by the value.
Validator output never reaches an author raw: a bad key is reported at that key (with the
lower_snake_case spelling that would pass), a repeated list item and a key too many are named.
"""

from __future__ import annotations

import json
import re
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
    if "propertyNames" in error.absolute_schema_path:
        # The error is about a key: point at that key, not at the mapping's first one.
        return [_bad_key(doc, pointer_join(pointer, value), str(value), error)]
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
    custom = _custom(error, keyword)
    if keyword == "maxProperties" and isinstance(value, dict):
        return [_too_many_keys(doc, pointer, value, error, custom)]
    if keyword == "uniqueItems" and isinstance(value, list):
        return _duplicates(doc, pointer, value)
    if custom:
        return [doc.error(pointer, custom.replace("{value}", repr(value)),
                          _snake_hint(value, error) if keyword == "pattern" else None)]
    if keyword == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        words = " or ".join(_TYPE_WORDS.get(name, name) for name in wanted)
        return [doc.error(pointer, f"expected {words}, got {type_word(value)}")]
    if keyword == "enum":
        choices = ", ".join(repr(choice) for choice in error.validator_value)
        suggestion = hint(str(value), [str(c) for c in error.validator_value])
        return [doc.error(pointer, f"{value!r} is not one of {choices}", suggestion)]
    if keyword == "pattern" and isinstance(value, str):
        return [doc.error(pointer, f"{value!r} must be {_pattern_words(error.validator_value)}",
                          _snake_hint(value, error))]
    sentence = _BOUNDS.get(keyword)
    if sentence is not None:
        return [doc.error(pointer, sentence(error.validator_value, value))]
    return [doc.error(pointer, error.message)]


def _custom(error: ValidationError, keyword: str) -> str | None:
    if not isinstance(error.schema, dict):
        return None
    return error.schema.get("x-messages", {}).get(keyword)


#: Plain words for the name patterns the schemas use; any other pattern is quoted as it is.
_PATTERN_WORDS = {
    "^[a-z][a-z0-9_]*$": "lower_snake_case (lowercase letters, digits and '_', starting with a letter)",
    "^[a-z][a-z0-9_]*(\\$not)?$": "lower_snake_case (lowercase letters, digits and '_', starting with a "
                                   "letter), optionally ending in '$not'",
    "^[A-Z]{3}$": "three capital letters (an ISO 4217 currency code such as 'EUR')",
}


def _pattern_words(pattern: str) -> str:
    return _PATTERN_WORDS.get(pattern, f"text matching the pattern {pattern}")


def _bad_key(doc: ParsedDefinition, pointer: str, key: str, error: ValidationError) -> AuthorError:
    custom = _custom(error, error.validator)
    if custom:
        message = custom.replace("{value}", repr(key))
    elif error.validator == "pattern":
        message = f"key {key!r} must be {_pattern_words(error.validator_value)}"
    else:
        message = f"key {key!r} is not allowed here: {error.message}"
    return doc.error(pointer, message, _snake_hint(key, error), key=True)


def _snake_hint(value: object, error: ValidationError) -> str | None:
    """``use 'refund'`` when lower_snake_casing the value satisfies the pattern it broke."""
    pattern = error.validator_value if error.validator == "pattern" else (error.schema or {}).get("pattern")
    if not isinstance(value, str) or not isinstance(pattern, str):
        return None
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value)
    snake = re.sub(r"[^a-z0-9$]+", "_", snake.lower()).strip("_")
    if snake and snake != value and re.search(pattern, snake):
        return f"use {snake!r}"
    return None


def _too_many_keys(doc, pointer, value: dict, error: ValidationError, custom: str | None) -> AuthorError:
    limit = error.validator_value
    keys = list(value)
    found = ", ".join(repr(key) for key in keys)
    if custom:
        message = f"{custom}; found {len(keys)} keys: {found}"
    elif limit == 1 and error.schema.get("properties"):
        choices = " or ".join(repr(key) for key in error.schema["properties"])
        message = f"give only one of {choices} here, found {len(keys)}: {found}"
    elif limit == 1:
        message = f"give only one key here, found {len(keys)}: {found}"
    else:
        message = f"give at most {limit} keys here, found {len(keys)}: {found}"
    return doc.error(pointer_join(pointer, keys[limit]), message, key=True)


def _duplicates(doc, pointer, items: list) -> list[AuthorError]:
    """Each repeated item, at its second place, naming where it first appeared."""
    errors, seen = [], []
    for index, item in enumerate(items):
        first = next((i for i, earlier in seen if _same(earlier, item)), None)
        if first is None:
            seen.append((index, item))
            continue
        shown = repr(item) if not isinstance(item, (dict, list)) else f"item {index + 1}"
        errors.append(doc.error(pointer_join(pointer, index),
                                f"{shown} is listed twice (also item {first + 1}); list each value once"))
    return errors


def _same(a: object, b: object) -> bool:
    # JSON Schema equality: 1 and true differ, 1 and 1.0 do not.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


_BOUNDS = {
    "minLength": lambda limit, value: "must not be empty" if limit == 1
    else f"must be at least {limit} characters long, got {len(value)}",
    "maxLength": lambda limit, value: f"must be at most {limit} characters long, got {len(value)}",
    "minItems": lambda limit, value: "must not be empty" if limit == 1
    else f"needs at least {limit} items, got {len(value)}",
    "maxItems": lambda limit, value: f"takes at most {limit} items, got {len(value)}",
    "minProperties": lambda limit, value: "must not be empty" if limit == 1
    else f"needs at least {limit} keys, got {len(value)}",
    "minimum": lambda limit, value: f"must be at least {limit}, got {value!r}",
    "maximum": lambda limit, value: f"must be at most {limit}, got {value!r}",
    "exclusiveMinimum": lambda limit, value: f"must be greater than {limit}, got {value!r}",
    "exclusiveMaximum": lambda limit, value: f"must be less than {limit}, got {value!r}",
    "const": lambda expected, value: f"must be {expected!r}, got {value!r}",
}


def _envelope_keys() -> set[str]:
    envelope = json.loads((DEFINITION_SCHEMAS / "_envelope.schema.json").read_text("utf-8"))
    return set(envelope["properties"])
