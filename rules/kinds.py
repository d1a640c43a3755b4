"""The kind registry: what the pipeline knows about each definition kind.

A kind is a name, a JSON Schema (``schemas/definitions/<kind>.schema.json``), a ``compile``
function and, optionally, ``run_examples``. Adding a kind is a module that calls
:func:`register_kind` plus its schema; the pipeline is never edited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas import PATH as SCHEMAS_PATH

from rules.errors import AuthorError
from rules.yamlsource import Positions

if TYPE_CHECKING:
    from rules.environment import Environment

#: Folder of the definition-kind schemas (and the shared envelope).
DEFINITION_SCHEMAS = SCHEMAS_PATH / "definitions"

#: Keys every definition may carry, whatever its kind (see ``_envelope.schema.json``).
ENVELOPE_KEYS = ("kind", "name", "description", "examples")


@dataclass
class ParsedDefinition:
    """A definition that parsed and passed its schema, handed to a kind's ``compile``.

    ``report`` collects a semantic problem at a JSON pointer; the pipeline refuses the definition
    when any was reported (or when ``compile`` raised :class:`rules.errors.AuthorErrors`).
    """

    kind: str
    name: str
    path: str
    data: dict[str, Any]
    positions: Positions
    errors: list[AuthorError] = field(default_factory=list)

    def error(
        self, pointer: str, message: str, hint: str | None = None, *, key: bool = False
    ) -> AuthorError:
        """A located error; ``key=True`` points at the mapping key rather than its value."""
        where = self.positions.key(pointer) if key else self.positions.of(pointer)
        line, column = where if where else (None, None)
        return AuthorError(message, self.path, line, column, self.kind, self.name, pointer, hint)

    def report(
        self, pointer: str, message: str, hint: str | None = None, *, key: bool = False
    ) -> None:
        self.errors.append(self.error(pointer, message, hint, key=key))


Compile = Callable[[ParsedDefinition, "Environment"], Any]
RunExamples = Callable[[Any, list[dict[str, Any]], "Environment"], list[AuthorError]]


@dataclass(frozen=True)
class KindSpec:
    """One definition kind.

    ``run_examples(compiled, examples, env)`` returns errors whose ``pointer`` is
    ``/examples/<i>/...``; the pipeline locates them in the file.
    """

    name: str
    compile: Compile
    run_examples: RunExamples | None = None
    schema_path: Path | None = None
    label: str = ""

    @property
    def schema_file(self) -> Path:
        return self.schema_path or DEFINITION_SCHEMAS / f"{self.name}.schema.json"

    def schema(self) -> dict[str, Any]:
        return _read_json(self.schema_file)


_KINDS: dict[str, KindSpec] = {}


class KindRegistrationError(Exception):
    """A kind registered twice, or with a schema file that does not exist."""


def register_kind(spec: KindSpec, *, replace: bool = False) -> KindSpec:
    """Make ``spec`` known to the pipeline; a second kind of the same name is refused."""
    if spec.name in _KINDS and not replace and _KINDS[spec.name] is not spec:
        raise KindRegistrationError(f"kind {spec.name!r} is registered twice")
    if not spec.schema_file.is_file():
        raise KindRegistrationError(f"kind {spec.name!r}: no schema at {spec.schema_file}")
    _KINDS[spec.name] = spec
    return spec


def get_kind(name: str) -> KindSpec | None:
    return _KINDS.get(name)


def kind_names() -> list[str]:
    return sorted(_KINDS)


@lru_cache(maxsize=None)
def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))
