"""Finding packs: folders under ``extensions/`` and ``settings.extension_dirs``, and installed
distributions advertising an entry point in the ``vectis.extensions`` group.

Discovery reads manifests only; no pack code runs until the loader imports it.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType

from runtime.config import ROOT, Settings
from runtime.packs.manifest import MANIFEST_FILE, Manifest, PackError, display, load_manifest

log = logging.getLogger(__name__)

#: The entry-point group an installed distribution uses to advertise a pack (value: its module).
ENTRY_POINT_GROUP = "vectis.extensions"
#: Folder of the built-in packs, imported as ``extensions.<name>``.
BUILTIN_DIR = ROOT / "extensions"
#: Packs from ``settings.extension_dirs`` are imported under this package name.
EXTERNAL_PACKAGE = "vectis_packs"


@dataclass(frozen=True)
class Candidate:
    """A pack found and its manifest read, not yet imported."""

    manifest: Manifest
    #: Where it was found, for messages (``folder extensions/acme``, ``entry point acme = acme_pack``).
    origin: str
    #: The module to import (``extensions.acme``, ``vectis_packs.acme``, ``acme_pack``).
    module: str
    #: Import by file from the manifest's folder (external folders) rather than by module name.
    from_file: bool = False

    @property
    def name(self) -> str:
        return self.manifest.name


def discover(settings: Settings) -> tuple[list[Candidate], dict[str, str]]:
    """Every pack found, and the failures (name → one line) of those that could not be read."""
    found: dict[str, list[Candidate]] = {}
    failures: dict[str, str] = {}
    for folder, builtin in [(BUILTIN_DIR, True)] + [(Path(d), False) for d in settings.extension_dirs]:
        for name, result in _scan_folder(folder, builtin):
            _collect(found, failures, name, result)
    for name, result in _scan_entry_points():
        _collect(found, failures, name, result)
    candidates = []
    for name, group in found.items():
        if len(group) > 1:
            failures[name] = f"pack {name!r} found twice: {group[0].origin} and {group[1].origin}"
        elif name not in failures:
            candidates.append(group[0])
    return candidates, failures


def _collect(found: dict, failures: dict, name: str, result: Candidate | PackError) -> None:
    if isinstance(result, PackError):
        failures[name] = str(result)
    else:
        found.setdefault(result.name, []).append(result)


def _scan_folder(folder: Path, builtin: bool) -> Iterable[tuple[str, Candidate | PackError]]:
    if not folder.is_dir():
        if not builtin:
            log.warning("extension folder %s does not exist", folder)
        return
    for pack_dir in sorted(p for p in folder.iterdir() if (p / MANIFEST_FILE).is_file()):
        try:
            manifest = load_manifest(pack_dir / MANIFEST_FILE)
            if manifest.name != pack_dir.name:
                raise PackError(
                    f"{display(pack_dir / MANIFEST_FILE)}: name: {manifest.name!r} differs from the folder name {pack_dir.name!r}"
                )
            if not (pack_dir / "__init__.py").is_file():
                raise PackError(f"{display(pack_dir)}: no __init__.py; a pack is a Python package with register(pack)")
        except PackError as exc:
            yield pack_dir.name, exc
            continue
        module = f"extensions.{manifest.name}" if builtin else f"{EXTERNAL_PACKAGE}.{manifest.name}"
        yield manifest.name, Candidate(manifest, f"folder {display(pack_dir)}", module, from_file=not builtin)


def _scan_entry_points() -> Iterable[tuple[str, Candidate | PackError]]:
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {entry_point.name} = {entry_point.value}"
        try:
            spec = importlib.util.find_spec(entry_point.value)
        except (ImportError, ValueError) as exc:
            spec, reason = None, str(exc)
        else:
            reason = "module not found"
        if spec is None or not spec.submodule_search_locations:
            yield entry_point.name, PackError(f"{origin}: cannot find the pack's package: {reason}")
            continue
        folder = Path(next(iter(spec.submodule_search_locations)))
        try:
            manifest = load_manifest(folder / MANIFEST_FILE)
        except PackError as exc:
            yield entry_point.name, exc
            continue
        if manifest.name != entry_point.name:
            yield entry_point.name, PackError(
                f"{origin}: the entry point's name differs from the manifest's name {manifest.name!r}"
            )
            continue
        yield manifest.name, Candidate(manifest, origin, entry_point.value)


def import_pack(candidate: Candidate) -> ModuleType:
    """Import a pack's module; packs from external folders are executed afresh from their files."""
    if not candidate.from_file:
        return importlib.import_module(candidate.module)
    if EXTERNAL_PACKAGE not in sys.modules:
        parent = types.ModuleType(EXTERNAL_PACKAGE, "Packs loaded from settings.extension_dirs.")
        parent.__path__ = []
        sys.modules[EXTERNAL_PACKAGE] = parent
    for loaded in [m for m in sys.modules if m == candidate.module or m.startswith(candidate.module + ".")]:
        del sys.modules[loaded]
    folder = candidate.manifest.path
    spec = importlib.util.spec_from_file_location(
        candidate.module, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[candidate.module] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[candidate.module]
        raise
    return module
