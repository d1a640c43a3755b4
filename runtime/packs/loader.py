"""Loading packs: dependency order, then each pack's ``register(pack)`` inside a staged registry.

A pack that fails (bad manifest, missing dependency, an exception in ``register``, registrations
that differ from its manifest's ``provides``) is logged, recorded with a one-line message, and
left out whole; so is every pack that requires it. The others load and the app starts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType

from runtime.config import Settings
from runtime.packs.context import PackContext
from runtime.packs.discovery import Candidate, discover, import_pack
from runtime.packs.manifest import MANIFEST_FILE, Manifest, PackError, display, satisfies, vectis_version
from runtime.packs.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedPack:
    manifest: Manifest
    module: ModuleType
    origin: str

    @property
    def name(self) -> str:
        return self.manifest.name


def load_packs(registry: Registry, settings: Settings) -> tuple[dict[str, LoadedPack], dict[str, str]]:
    """Discover and load every enabled pack. Returns (loaded packs in load order, failures)."""
    candidates, failures = discover(settings)
    disabled = set(settings.disabled_packs)
    for name in sorted(disabled & {c.name for c in candidates}):
        log.info("pack %s is disabled by settings", name)
    pending = {c.name: c for c in candidates if c.name not in disabled}
    loaded: dict[str, LoadedPack] = {}
    while pending:
        ready = [n for n in sorted(pending) if not set(pending[n].manifest.packs) & set(pending)]
        if not ready:
            cycle = ", ".join(sorted(pending))
            for name in sorted(pending):
                failures[name] = f"dependency cycle among packs {cycle}"
            break
        for name in ready:
            candidate = pending.pop(name)
            try:
                _check_requirements(candidate, loaded, failures, disabled)
                _check_slots(candidate.manifest, registry)
                loaded[name] = _load(registry, candidate)
            except PackError as exc:
                failures[name] = str(exc)
    for name, message in sorted(failures.items()):
        log.error("pack %s not loaded: %s", name, message)
    for pack in loaded.values():
        log.info("pack %s %s loaded (%s)", pack.name, pack.manifest.version, pack.origin)
    return loaded, failures


def _check_requirements(candidate: Candidate, loaded: dict, failures: dict, disabled: set[str]) -> None:
    manifest = candidate.manifest
    if manifest.vectis and not satisfies(vectis_version(), manifest.vectis):
        raise PackError(f"requires vectis {manifest.vectis}, this is {vectis_version()}")
    for dependency in manifest.packs:
        if dependency in loaded:
            continue
        if dependency in disabled:
            raise PackError(f"requires pack {dependency!r}, which is disabled")
        if dependency in failures:
            raise PackError(f"requires pack {dependency!r}, which failed to load")
        raise PackError(f"requires pack {dependency!r}, which is not installed")


def _check_slots(manifest: Manifest, registry: Registry) -> None:
    from rules.suggestions import did_you_mean

    for slot in sorted(set(manifest.provides) - set(registry.slots)):
        raise PackError(f"{display(manifest.path / MANIFEST_FILE)}: provides.{slot}: unknown slot {slot!r}{did_you_mean(slot, registry.slots)}")


def _load(registry: Registry, candidate: Candidate) -> LoadedPack:
    try:
        module = import_pack(candidate)
    except Exception as exc:
        raise PackError(f"cannot import {candidate.module}: {one_line(exc)}") from exc
    register = getattr(module, "register", None)
    if not callable(register):
        raise PackError(f"{candidate.module} has no register(pack) function")
    try:
        with registry.staged():
            context = PackContext(registry, candidate.manifest)
            register(context)
            _check_provides(candidate.manifest, context.registered)
    except PackError:
        raise
    except Exception as exc:
        raise PackError(f"register() failed: {one_line(exc)}") from exc
    return LoadedPack(candidate.manifest, module, candidate.origin)


def _check_provides(manifest: Manifest, registered: set[tuple[str, str]]) -> None:
    undeclared = sorted(registered - manifest.provided)
    unregistered = sorted(manifest.provided - registered)
    problems = [f"registered {slot}.{name} but manifest.yaml provides does not declare it" for slot, name in undeclared]
    problems += [f"manifest.yaml provides {slot}.{name} but register() did not register it" for slot, name in unregistered]
    if problems:
        raise PackError("; ".join(problems))


def one_line(exc: BaseException) -> str:
    from runtime.errors import VectisError

    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, VectisError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
