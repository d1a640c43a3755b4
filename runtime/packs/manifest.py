"""A pack's ``manifest.yaml``: read, validated against ``schemas/extension.schema.json``, frozen.

Every problem of a manifest is reported at once, on one line, each part naming the file, the line
and the field: ``extensions/acme/manifest.yaml:2:10: version: '1' is not a version (major.minor[.patch])``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from runtime.config import ROOT
from runtime.errors import VectisError

SCHEMA_PATH = ROOT / "schemas" / "extension.schema.json"
MANIFEST_FILE = "manifest.yaml"


class PackError(VectisError):
    """A pack that cannot be loaded; the message is one line naming the pack's file or part at fault."""


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    description: str
    path: Path
    vectis: str | None = None
    packs: tuple[str, ...] = ()
    #: Slot name → names the pack registers there.
    provides: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def provided(self) -> set[tuple[str, str]]:
        return {(slot, name) for slot, names in self.provides.items() for name in names}


def display(path: Path) -> str:
    """A path relative to the project when it is inside it, for shorter messages."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def load_manifest(path: Path) -> Manifest:
    """Read and validate one manifest; raise :class:`PackError` naming the file and every bad field."""
    from rules.errors import AuthorErrors
    from rules.yamlsource import parse

    shown = display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PackError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        source = parse(text, shown)
    except AuthorErrors as exc:
        raise PackError("; ".join(str(error) for error in exc.errors)) from None
    data = source.data
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        pointer, field_name, message = _describe(error)
        at_key = error.validator in ("required", "additionalProperties")
        line, column = (source.positions.key(pointer) if at_key else source.positions.of(pointer)) or (1, 1)
        problems.append(f"{shown}:{line}:{column}: {field_name}: {message}")
    if problems:
        raise PackError("; ".join(problems))
    requires = data.get("requires") or {}
    return Manifest(
        name=data["name"],
        version=data["version"],
        description=data["description"],
        path=path.parent,
        vectis=requires.get("vectis"),
        packs=tuple(requires.get("packs") or ()),
        provides={slot: frozenset(names) for slot, names in (data.get("provides") or {}).items()},
    )


def _describe(error: Any) -> tuple[str, str, str]:
    """(JSON pointer, dotted field, message) for one schema error."""
    from rules.suggestions import did_you_mean

    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = next(p for p in error.validator_value if p not in error.instance)
        parts.append(missing)
        message = "is required"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = next(k for k in error.instance if k not in known)
        parts.append(extra)
        message = f"unknown field{did_you_mean(extra, known)}"
    elif error.validator == "pattern" and parts and parts[-1] == "version":
        message = f"{error.instance!r} is not a version (major.minor[.patch])"
    elif error.validator == "pattern":
        message = f"{error.instance!r} does not match {error.validator_value}"
    else:
        message = error.message
    pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
    return pointer, ".".join(parts) or "(top level)", message


# --- versions -----------------------------------------------------------------------------------

_CLAUSE = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*([0-9]+(?:\.[0-9]+)*)\s*$")


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.2.3-rc1"`` → ``(1, 2, 3)``; trailing zeros dropped so ``0.1`` equals ``0.1.0``."""
    numbers = [int(part) for part in re.split(r"[-+]", version, maxsplit=1)[0].split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def satisfies(version: str, specifier: str) -> bool:
    """Whether ``version`` meets every comma-separated clause of ``specifier`` (``">=0.1, <2"``)."""
    have = version_tuple(version)
    compare = {
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    }
    for clause in specifier.split(","):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValueError(f"requires.vectis: cannot read {clause.strip()!r}")
        if not compare[match.group(1)](have, version_tuple(match.group(2))):
            return False
    return True


def vectis_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("vectis")
    except metadata.PackageNotFoundError:
        return "0.0.0"
