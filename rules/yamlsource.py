"""Strict, safe YAML loading that remembers where every value came from.

Only the YAML 1.2 core schema resolves implicitly: ``true``/``false`` (three spellings each),
``null``/``~``/empty, integers and floats. ``off``, ``no``, ``yes``, ``on`` and unquoted dates
stay strings. Duplicate keys, anchors/aliases, non-string keys, several documents and a top level
that is not a mapping are author errors, as is malformed YAML (with the line and column from the
parser), never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from rules.errors import AuthorError

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _SourceError(Exception):
    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.message = message
        self.mark = mark


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema resolvers and no aliases."""

    yaml_implicit_resolvers: dict = {}

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise _SourceError("anchors and aliases are not supported", event.start_mark)
        return super().compose_node(parent, index)

    def construct_core_int(self, node: ScalarNode) -> int:
        value = node.value
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        return int(value, 10)

    def construct_core_float(self, node: ScalarNode) -> float:
        value = node.value.lower()
        if value.endswith(".inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        if value.endswith(".nan"):
            return float("nan")
        return float(value)


StrictLoader.add_implicit_resolver(
    _TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
StrictLoader.add_implicit_resolver(_TAG + "int", _INT, list("-+0123456789"))
StrictLoader.add_implicit_resolver(_TAG + "float", _FLOAT, list("-+0123456789."))
StrictLoader.add_implicit_resolver(
    _TAG + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
StrictLoader.add_constructor(_TAG + "int", StrictLoader.construct_core_int)
StrictLoader.add_constructor(_TAG + "float", StrictLoader.construct_core_float)


def escape(token: str) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer_join(base: str, *tokens: Any) -> str:
    return base + "".join("/" + escape(str(token)) for token in tokens)


@dataclass(frozen=True)
class Positions:
    """JSON pointer → (line, column), 1-based, for values and for mapping keys."""

    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)

    def of(self, pointer: str) -> tuple[int, int] | None:
        """Where the value at ``pointer`` is, or its nearest existing parent."""
        return self._nearest(pointer, self.values)

    def key(self, pointer: str) -> tuple[int, int] | None:
        """Where the key naming ``pointer`` is (the value's place for sequence items)."""
        return self.keys.get(pointer) or self._nearest(pointer, self.values)

    @staticmethod
    def _nearest(pointer: str, table: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
        while True:
            if pointer in table:
                return table[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Source:
    """A parsed YAML document: plain data plus where each part of it was written."""

    data: dict[str, Any]
    positions: Positions


def _position(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _build(loader: StrictLoader, node: Node, pointer: str, positions: Positions) -> Any:
    positions.values[pointer] = _position(node.start_mark)
    if isinstance(node, MappingNode):
        if node.tag != _TAG + "map":
            raise _SourceError(f"unsupported tag {node.tag!r}", node.start_mark)
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _build_key(loader, key_node)
            if key in first_seen:
                raise _SourceError(
                    f"duplicate key {key!r} (first defined at line {first_seen[key]})",
                    key_node.start_mark,
                )
            first_seen[key] = key_node.start_mark.line + 1
            child = pointer_join(pointer, key)
            positions.keys[child] = _position(key_node.start_mark)
            result[key] = _build(loader, value_node, child, positions)
        return result
    if isinstance(node, SequenceNode):
        if node.tag != _TAG + "seq":
            raise _SourceError(f"unsupported tag {node.tag!r}", node.start_mark)
        return [
            _build(loader, item, pointer_join(pointer, index), positions)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _build_key(loader: StrictLoader, node: Node) -> str:
    if not isinstance(node, ScalarNode):
        raise _SourceError("a mapping key must be a plain string", node.start_mark)
    key = loader.construct_object(node, deep=True)
    if not isinstance(key, str):
        raise _SourceError(
            f"mapping key {node.value!r} must be a string; quote it", node.start_mark
        )
    return key


def parse(text: str, path: str | None = None) -> Source:
    """Parse one YAML document whose top level is a mapping.

    Raises :class:`rules.errors.AuthorErrors` carrying a single located :class:`AuthorError`.
    """
    from rules.errors import AuthorErrors

    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise AuthorErrors([AuthorError("empty document; expected a mapping", path, 1, 1)])
        if not isinstance(node, MappingNode):
            raise _SourceError("the top level must be a mapping (kind, name, ...)", node.start_mark)
        positions = Positions()
        data = _build(loader, node, "", positions)
    except _SourceError as exc:
        line, column = _position(exc.mark)
        raise AuthorErrors([AuthorError(exc.message, path, line, column)]) from None
    except yaml.MarkedYAMLError as exc:
        raise AuthorErrors([_yaml_error(exc, path)]) from None
    except yaml.YAMLError as exc:
        raise AuthorErrors([AuthorError(f"malformed YAML: {exc}", path)]) from None
    finally:
        loader.dispose()
    return Source(data, positions)


def _yaml_error(exc: yaml.MarkedYAMLError, path: str | None) -> AuthorError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "malformed YAML"
    if exc.context and exc.context.startswith("expected a single document"):
        problem = "expected exactly one document, found another (one definition per file)"
    elif exc.context and exc.context_mark is not None:
        problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
    line, column = _position(mark) if mark is not None else (None, None)
    return AuthorError(f"malformed YAML: {problem}", path, line, column)
