"""A kind's JSON Schema as help text: every property's JSON path, type and description."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.kinds import get_kind


@dataclass(frozen=True)
class Help:
    path: str
    type: str
    description: str


def schema_help(kind: str) -> tuple[str, list[Help]]:
    """(the schema's own description, its properties in document order); empty for an unknown kind."""
    spec = get_kind(kind)
    if spec is None:
        return "", []
    schema = spec.schema()
    found: list[Help] = []
    _walk(schema, schema, "", found, depth=0)
    return schema.get("description", ""), found


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {})
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return " | ".join(kind)
    if kind:
        return kind
    if "enum" in node:
        return " | ".join(repr(v) for v in node["enum"])
    return "any"


def _walk(node: dict[str, Any], root: dict[str, Any], path: str, found: list[Help], depth: int) -> None:
    node = _resolve(node, root)
    if depth > 4:  # predicates nest without end; their language has its own guide
        return
    for name, child in (node.get("properties") or {}).items():
        child = _resolve(child, root)
        here = f"{path}.{name}" if path else name
        found.append(Help(here, _type(child), child.get("description", "")))
        _walk(child, root, here, found, depth + 1)
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        _walk(additional, root, f"{path}.<name>" if path else "<name>", found, depth + 1)
    items = node.get("items")
    if isinstance(items, dict):
        _walk(items, root, f"{path}[]", found, depth + 1)
