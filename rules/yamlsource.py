"""Strict, safe YAML loading that remembers where every value came from.

Only the YAML 1.2 core schema resolves implicitly: ``true``/``false`` (three spellings each),
``null``/``~``/empty, integers and floats. ``off``, ``no``, ``yes``, ``on`` and unquoted dates
stay strings. Duplicate keys, anchors/aliases, non-string keys, several documents and a top level
that is not a mapping are author errors, as is malformed YAML (with the line and column from the
parser), a character YAML does not allow (a control character pasted into a value), nesting deeper
than :data:`MAX_DEPTH`, a source over :data:`MAX_SOURCE_CHARS` and a file that is not UTF-8
(:func:`read_source`): never a traceback.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from rules.errors import AuthorError, AuthorErrors

#: Deepest nesting of mappings and lists a definition may use (a predicate rarely needs ten).
MAX_DEPTH = 64
#: Longest definition source, in characters; a definition is a page of YAML, not a data dump.
MAX_SOURCE_CHARS = 1_000_000
#: Most digits of an integer literal (Python refuses to convert more than 4,300).
MAX_INT_DIGITS = 100

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
    _depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise _SourceError("anchors and aliases are not supported", event.start_mark)
        # PyYAML composes recursively: bound the depth before Python's stack is.
        if self._depth >= MAX_DEPTH:
            raise _SourceError(f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_core_int(self, node: ScalarNode) -> int:
        value = node.value
        if len(value.lstrip("+-")) > MAX_INT_DIGITS:
            raise _SourceError(f"integer with more than {MAX_INT_DIGITS} digits", node.start_mark)
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
    if len(text) > MAX_SOURCE_CHARS:
        raise AuthorErrors([AuthorError(
            f"source is {len(text):,} characters long; a definition may have at most {MAX_SOURCE_CHARS:,}", path)])
    try:
        # PyYAML checks every character when the loader is made, before any parsing.
        loader = StrictLoader(text)
    except ReaderError as exc:
        raise AuthorErrors([_unacceptable_character(text, exc, path)]) from None
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


def _unacceptable_character(text: str, exc: ReaderError, path: str | None) -> AuthorError:
    """A character YAML refuses, at its line and column, named so an author can find it."""
    position = exc.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return AuthorError(f"malformed YAML: U+{code:04X} is a lone surrogate, not a character; remove it",
                           path, line, column)
    name = (unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "control character")).lower()
    escape_text = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return AuthorError(
        f"malformed YAML: U+{code:04X} ({name}) is not allowed in YAML; remove it, or write it as"
        f" {escape_text} inside a double-quoted string", path, line, column)


#: unicodedata has no names for C0/C1 controls; the ones authors paste by accident.
_CONTROL_NAMES = {"\x00": "NUL", "\x07": "bell", "\x08": "backspace", "\x0b": "vertical tab",
                  "\x0c": "form feed", "\x1b": "escape", "\x7f": "delete"}


def read_source(file: Path, shown: str | None = None) -> str:
    """The text of a definition file; a file that is not UTF-8 is an author error at its line.

    Raises :class:`rules.errors.AuthorErrors`: ``FILE:LINE: not UTF-8: …`` naming the byte.
    """
    data = file.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        latin1 = " (Latin-1?)" if byte >= 0xA0 else ""
        message = (f"not UTF-8: byte 0x{byte:02X} at column {column} cannot be decoded{latin1};"
                   " save the file as UTF-8")
        raise AuthorErrors([AuthorError(message, shown or str(file), line)]) from None
