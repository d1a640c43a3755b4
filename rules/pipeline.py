"""The definitions pipeline: source → parse → schema → semantic → compile → examples.

:func:`check_source` checks one file's text; :func:`check_paths` checks files and folders and
adds the cross-file checks (a (kind, name) defined twice). Every error of a file is reported at
once; a later stage runs only when the earlier ones passed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rules.builtin  # noqa: F401  (registers the shipped kinds)
from rules.environment import Environment
from rules.errors import AuthorError, AuthorErrors, DefinitionInvalid
from rules.kinds import DEFINITION_SCHEMAS, ParsedDefinition, get_kind, kind_names
from rules.suggestions import hint
from rules.validation import schema_errors
from rules.yamlsource import Positions, parse, read_source

#: File suffixes read as definitions when a folder is checked.
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Definition:
    """A valid, compiled definition whose examples pass."""

    kind: str
    name: str
    path: str
    source: str
    checksum: str
    data: dict[str, Any]
    compiled: Any
    description: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


@dataclass(frozen=True)
class Checked:
    """The outcome for one source: a definition, or the errors that refused it."""

    definition: Definition | None
    errors: list[AuthorError]
    path: str = ""
    kind: str | None = None
    name: str | None = None
    name_line: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> Definition:
        if self.errors or self.definition is None:
            raise DefinitionInvalid(self.errors)
        return self.definition


def checksum(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def check_source(source: str, path: str, env: Environment | None = None) -> Checked:
    """Run every stage on one file's text."""
    env = env if env is not None else Environment()
    try:
        parsed = parse(source, path)
    except AuthorErrors as exc:
        return Checked(None, exc.errors, path)
    data, positions = parsed.data, parsed.positions
    kind, name = data.get("kind"), data.get("name")
    kind = kind if isinstance(kind, str) else None
    name = name if isinstance(name, str) else None
    name_line = (positions.key("/name") or (None,))[0] if name else None
    done = _Outcome(path, kind, name, name_line)
    spec = get_kind(kind) if kind else None
    doc = ParsedDefinition(kind or "", name or "", path, data, positions)
    if spec is None:
        return done(_envelope_errors(doc, data, positions, path))
    errors = schema_errors(doc, spec.schema_file)
    if errors:
        return done(errors)
    try:
        compiled = spec.compile(doc, env)
    except AuthorErrors as exc:
        doc.errors.extend(exc.errors)
    if doc.errors:
        return done(_located(doc, doc.errors))
    if spec.run_examples is not None and data.get("examples"):
        errors = _located(doc, spec.run_examples(compiled, data["examples"], env))
        if errors:
            return done(errors)
    definition = Definition(kind, name, path, source, checksum(source), data, compiled,
                            data.get("description"))
    return done([], definition)


@dataclass(frozen=True)
class _Outcome:
    path: str
    kind: str | None
    name: str | None
    name_line: int | None

    def __call__(self, errors: list[AuthorError], definition: Definition | None = None) -> Checked:
        ordered = sorted(errors, key=lambda e: e.sort_key)
        return Checked(definition, ordered, self.path, self.kind, self.name, self.name_line)


def _envelope_errors(doc: ParsedDefinition, data: dict, positions: Positions, path: str):
    """Problems with the envelope (``kind``, ``name``…) when the kind is missing or unknown."""
    errors = schema_errors(doc, DEFINITION_SCHEMAS / "_envelope.schema.json")
    kind = data.get("kind")
    if isinstance(kind, str):
        errors.append(_at(positions, path, "/kind", f"unknown kind {kind!r}",
                          hint(kind, kind_names())))
    return errors


def _at(positions: Positions, path: str, pointer: str, message: str, hint_text=None):
    line, column = positions.of(pointer) or (None, None)
    return AuthorError(message, path, line, column, pointer=pointer, hint=hint_text)


def _located(doc: ParsedDefinition, errors: list[AuthorError]) -> list[AuthorError]:
    """Fill in file, kind, name and position for errors that only carry a pointer."""
    result = []
    for error in errors:
        where = doc.positions.of(error.pointer or "") or (None, None)
        result.append(error.located(path=doc.path, kind=doc.kind, name=doc.name,
                                    line=where[0], column=where[1]))
    return result


@dataclass(frozen=True)
class CheckedSet:
    """The outcome for many files."""

    checked: list[Checked] = field(default_factory=list)
    errors: list[AuthorError] = field(default_factory=list)

    @property
    def definitions(self) -> list[Definition]:
        return [c.definition for c in self.checked if c.definition is not None]

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, kind: str, name: str) -> Definition | None:
        for definition in self.definitions:
            if definition.key == (kind, name):
                return definition
        return None


def iter_files(paths: Iterable[Path | tuple[Path, str]], origin: str | None = None) -> list[tuple[Path, str]]:
    """(file, display path) for files and, recursively and sorted, the YAML in folders.

    A folder's files display as ``<folder name>/<relative path>``, or ``<origin>/<relative>``
    when ``origin`` is given (a pack name, say); a file given directly displays as given.
    """
    found = []
    for item in paths:
        # An item may carry its own origin: (folder, "flat_rate_shipping/definitions").
        path, item_origin = (Path(item[0]), item[1]) if isinstance(item, tuple) else (Path(item), origin)
        if path.is_dir():
            root = item_origin or path.name
            for file in sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
                found.append((file, f"{root}/{file.relative_to(path).as_posix()}"))
        else:
            shown = f"{item_origin}/{path.name}" if item_origin else path.as_posix()
            found.append((path, shown))
    return found


def check_paths(
    paths: Iterable[Path | tuple[Path, str]], env: Environment | None = None, *, origin: str | None = None
) -> CheckedSet:
    """Check every definition file under ``paths``; a (kind, name) defined twice is an error."""
    env = env if env is not None else Environment()
    results: list[Checked] = []
    first: dict[tuple[str, str], Checked] = {}
    for file, shown in iter_files(paths, origin):
        try:
            checked = check_source(read_source(file, shown), shown, env)
        except AuthorErrors as exc:  # not UTF-8
            checked = Checked(None, exc.errors, shown)
        if checked.kind and checked.name:
            key = (checked.kind, checked.name)
            if key in first:
                checked = _duplicate(checked, first[key])
            else:
                first[key] = checked
        results.append(checked)
    errors = [error for checked in results for error in checked.errors]
    return CheckedSet(results, errors)


def _duplicate(checked: Checked, earlier: Checked) -> Checked:
    where = f"{earlier.path}:{earlier.name_line}" if earlier.name_line else earlier.path
    positions_line = checked.name_line
    error = AuthorError(
        f"duplicate definition {checked.kind}/{checked.name}, first defined at {where}",
        checked.path, positions_line, 1, checked.kind, checked.name, "/name",
    )
    return Checked(None, sorted([*checked.errors, error], key=lambda e: e.sort_key),
                   checked.path, checked.kind, checked.name, checked.name_line)
