"""What definitions may name, kept between ``vectis definitions validate`` runs.

Checking a definition needs the kinds, the fact schemas and the names the registries hold (effect
actions, tender types, pack fields and functions, installed packs), which the core's domains and
the packs register while the app is built: seconds of imports. The first ``validate`` builds them
(the app without its HTTP layer) and keeps them in ``var/cache/``, keyed by a fingerprint of every
input that decides them: the code and data of ``runtime``, ``rules``, ``schemas``, ``definitions``
and the packs (built-in, ``VECTIS_EXTENSION_DIRS``, entry points), the pack settings, the installed
distributions and the Python version. Any change to one of them rebuilds it. A pack's predicate
function is kept by name; calling one (an example that uses it) builds the registries and calls
the real function, so results are those of the whole app. Publishing never reads the cache.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from rules.environment import Environment
from rules.facts import FactCatalog
from rules.kinds import kind_names

from runtime.config import ROOT, Settings

#: Bump when the file's layout changes.
FORMAT = 2
#: Folders of this project whose files decide what definitions may name.
INPUT_FOLDERS = ("runtime", "rules", "schemas", "definitions", "extensions")
INPUT_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".graphql")
#: The entry-point group packs are installed under (``runtime/packs/discovery.py``).
PACK_ENTRY_POINTS = "vectis.extensions"


class Uncacheable(Exception):
    """An environment field this module does not know how to keep: the cache is not written."""


def cache_file(settings: Settings) -> Path:
    return Path(settings.var_dir) / "cache" / "definitions-vocabulary.json"


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    digest.update(f"{FORMAT}|{sys.version}|{sorted(settings.disabled_packs)}|".encode())
    folders = [ROOT / name for name in INPUT_FOLDERS] + [Path(d) for d in settings.extension_dirs]
    folders += _entry_point_folders(digest)
    for folder in folders:
        digest.update(f"{folder}|".encode())
        for path in sorted(_files(folder)):
            stat = path.stat()
            digest.update(f"{path}|{stat.st_mtime_ns}|{stat.st_size}|".encode())
    for entry in sorted(set(sys.path)):  # a distribution installed or removed changes its folder
        if entry.endswith(("site-packages", "dist-packages")) and os.path.isdir(entry):
            digest.update(f"{entry}|{os.stat(entry).st_mtime_ns}|".encode())
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    found = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
        found += [Path(parent) / n for n in names if n.endswith(INPUT_SUFFIXES)]
    return found


def _entry_point_folders(digest) -> list[Path]:
    from importlib import metadata

    folders = []
    for entry_point in sorted(metadata.entry_points(group=PACK_ENTRY_POINTS), key=lambda e: e.name):
        digest.update(f"{entry_point.name}={entry_point.value}|".encode())
        try:
            spec = importlib.util.find_spec(entry_point.value)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            folders.append(Path(next(iter(spec.submodule_search_locations))))
    return folders


def save(settings: Settings, env: Environment, sources: list[tuple[Path, str]]) -> bool:
    """Keep ``env`` and the shipped ``sources`` for the current fingerprint; ``False`` if it cannot be kept."""
    try:
        data = {"format": FORMAT, "fingerprint": fingerprint(settings), "kinds": kind_names(),
                "environment": _dump(env), "sources": [[str(path), origin] for path, origin in sources]}
    except Uncacheable:
        return False
    target = cache_file(settings)
    temporary = target.with_suffix(f".{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, sort_keys=True), "utf-8")
        os.replace(temporary, target)  # atomic: a concurrent reader sees the old file or the new one
    except OSError:  # a read-only var/: validation still works, only without the cache
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return False
    return True


def load(settings: Settings) -> tuple[Environment, list[tuple[Path, str]]] | None:
    """The kept environment and shipped sources, or ``None`` when missing, unreadable or stale."""
    try:
        data = json.loads(cache_file(settings).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("format") != FORMAT or data.get("fingerprint") != fingerprint(settings):
        return None
    if data.get("kinds") != kind_names():  # a pack registers a kind: only loading it tells
        return None
    try:
        return _load(data["environment"], settings), [(Path(path), origin) for path, origin in data["sources"]]
    except (KeyError, TypeError, ValueError, ImportError, AttributeError):  # written by another layout
        return None


def _dump(env: Environment) -> dict[str, Any]:
    """Each field tagged by what it holds, so a field added later (a set of names) keeps too."""
    out: dict[str, Any] = {}
    for spec in dataclasses.fields(env):
        value = getattr(env, spec.name)
        if value is None:
            out[spec.name] = None
        elif isinstance(value, (frozenset, set)):
            out[spec.name] = {"names": sorted(value)}
        elif spec.name == "predicate_functions":
            out[spec.name] = {"functions": {name: function is not None for name, function in value.items()}}
        elif isinstance(value, FactCatalog):
            out[spec.name] = {"facts": value.schemas}
        else:
            out[spec.name] = {"object": _reference(value)}
    return out


def _reference(value: Any) -> str | None:
    """``module:attribute`` of a module-level object (the runtime's money arithmetic)."""
    if value is None:
        return None
    module = sys.modules.get(type(value).__module__)
    for name, candidate in vars(module or object).items():
        if candidate is value:
            return f"{module.__name__}:{name}"
    raise Uncacheable(f"{type(value).__name__} is not a module-level object")


def _load(data: dict[str, Any], settings: Settings) -> Environment:
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(Environment):
        value = data[spec.name]
        if value is None:
            values[spec.name] = None
        elif "names" in value:
            values[spec.name] = frozenset(value["names"])
        elif "functions" in value:
            values[spec.name] = {name: _Deferred(name, settings) if callable_ else None
                                 for name, callable_ in value["functions"].items()}
        elif "facts" in value:
            values[spec.name] = FactCatalog(value["facts"])
        else:
            module, _, attribute = value["object"].partition(":")
            values[spec.name] = getattr(importlib.import_module(module), attribute)
    return Environment(**values)


class _Deferred:
    """A pack's predicate function, found in the registries when first called."""

    #: The real functions, per pack settings, once built in this process.
    _real: dict[tuple, Any] = {}

    def __init__(self, name: str, settings: Settings):
        self.name = name
        self.settings = settings

    def __call__(self, fact):
        key = (tuple(self.settings.extension_dirs), tuple(sorted(self.settings.disabled_packs)))
        if key not in _Deferred._real:
            _Deferred._real[key] = registered_environment(self.settings)[0].predicate_functions
        return _Deferred._real[key][self.name](fact)


def registered_environment(settings: Settings) -> tuple[Environment, list[tuple[Path, str]]]:
    """Build the registries (the app without its HTTP layer) and keep what they name."""
    from runtime.app import create_app
    from runtime.definitions.environment import build_environment
    from runtime.definitions.shipped import shipped_sources

    app = create_app(settings, probe=False, web=False)
    registry = app.extensions["vectis.registry"]
    env, sources = build_environment(registry), shipped_sources(registry)
    save(settings, env, sources)
    return env, sources


def environment(settings: Settings) -> tuple[Environment, list[tuple[Path, str]]]:
    """The kept environment when it is current, else built (and kept)."""
    return load(settings) or registered_environment(settings)
