"""The event types: one JSON Schema per type in ``schemas/events/``, validating the payload.

``envelope.schema.json`` describes the published event and holds the ``$defs`` the payload
schemas share (ids, money as a decimal string, currency codes).
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from rules.suggestions import did_you_mean
from schemas import PATH

from runtime.errors import VectisError

EVENTS_PATH = PATH / "events"
ENVELOPE = "envelope"


class EventInvalid(VectisError):
    """An unknown event type, or a payload its schema refuses; the message names the type and field."""


@lru_cache(maxsize=1)
def _schemas() -> dict[str, dict]:
    return {p.name.removesuffix(".schema.json"): json.loads(p.read_text("utf-8"))
            for p in sorted(EVENTS_PATH.glob("*.schema.json"))}


@lru_cache(maxsize=1)
def _validators() -> dict[str, Draft202012Validator]:
    schemas = _schemas()
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in schemas.values())
    return {name: Draft202012Validator(_inlined(schema, registry.resolver(schema["$id"])), registry=registry,
                                       format_checker=Draft202012Validator.FORMAT_CHECKER)
            for name, schema in schemas.items()}


def _inlined(node: Any, resolver) -> Any:
    """``node`` with each ``$ref`` replaced by what it points at. Every event is checked when it is
    emitted, and resolving a reference costs more than the check it leads to; the payload schemas
    only point at the envelope's ``$defs``, which refer to nothing further."""
    if isinstance(node, list):
        return [_inlined(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        resolved = resolver.lookup(node["$ref"])
        target = _inlined(resolved.contents, resolved.resolver)
        rest = {key: _inlined(value, resolver) for key, value in node.items() if key != "$ref"}
        return {**rest, "allOf": [target]} if rest else target
    return {key: (value if key in ("$defs", "const", "enum", "examples") else _inlined(value, resolver))
            for key, value in node.items()}


def event_types() -> list[str]:
    """Every type :func:`runtime.events.emit` accepts."""
    return sorted(name for name in _schemas() if name != ENVELOPE)


def check_payload(type_: str, payload: Any) -> None:
    """Raise :class:`EventInvalid` unless ``payload`` is valid for the event type ``type_``."""
    validators = _validators()
    if type_ == ENVELOPE or type_ not in validators:
        raise EventInvalid(f"type: unknown event type {type_!r}{did_you_mean(str(type_), event_types())}; "
                           f"each type needs schemas/events/<type>.schema.json")
    problems = sorted(validators[type_].iter_errors(payload), key=lambda e: list(e.absolute_path))
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path)
        field = f"payload/{where}" if where else "payload"
        raise EventInvalid(f"{type_}: {field}: {problems[0].message}")


def check_envelope(event: dict) -> None:
    """Raise :class:`EventInvalid` unless ``event`` is a valid published event (tests, consumers)."""
    problems = list(_validators()[ENVELOPE].iter_errors(event))
    if problems:
        where = "/".join(str(p) for p in problems[0].absolute_path) or "event"
        raise EventInvalid(f"{where}: {problems[0].message}")
