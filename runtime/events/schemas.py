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
    return {name: Draft202012Validator(schema, registry=registry,
                                       format_checker=Draft202012Validator.FORMAT_CHECKER)
            for name, schema in schemas.items()}


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
