"""Shipped definitions (``definitions/`` and packs' ``definitions`` slot) made live in the database.

A shipped definition is published when it has no revision yet, or when its file changed and the
live revision still came from a shipped file. A revision a merchandiser published is never
overwritten by a file: the report says it was kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import definitions as shipped_definitions
from rules.environment import Environment
from rules.errors import DefinitionInvalid
from rules.pipeline import CheckedSet, check_paths
from sqlmodel import Session

from runtime.definitions import store
from runtime.packs.registry import Registry

#: The author recorded on revisions published from shipped files.
SYSTEM_AUTHOR = "system"


@dataclass(frozen=True)
class SyncOutcome:
    kind: str
    name: str
    action: str  # published | updated | unchanged | kept
    revision: int


def shipped_sources(registry: Registry) -> list[tuple[Path, str]]:
    """(folder, origin label) of every folder of shipped definitions."""
    sources = [(shipped_definitions.PATH, "definitions")]
    for entry in registry.entries("definitions"):
        sources.append((Path(entry.value), f"{entry.pack}/definitions"))
    return sources


def check_shipped(registry: Registry, env: Environment) -> CheckedSet:
    """Every shipped file, checked together so a name defined twice across packs is caught."""
    return check_paths(shipped_sources(registry), env)


def sync(session: Session, registry: Registry, env: Environment) -> list[SyncOutcome]:
    """Publish shipped definitions; all or nothing (any invalid file refuses the whole sync)."""
    checked = check_shipped(registry, env)
    if not checked.ok:
        raise DefinitionInvalid(checked.errors)
    outcomes = []
    for definition in checked.definitions:
        current = store.live(session, definition.kind, definition.name, lock=True)
        if current is not None and current.checksum == definition.checksum:
            outcomes.append(SyncOutcome(definition.kind, definition.name, "unchanged", current.revision))
            continue
        if current is not None and current.author != SYSTEM_AUTHOR:
            outcomes.append(SyncOutcome(definition.kind, definition.name, "kept", current.revision))
            continue
        row, _ = store.publish(
            session, definition.source, env, author=SYSTEM_AUTHOR, note="shipped definition",
            origin=definition.path, path=definition.path,
        )
        outcomes.append(SyncOutcome(definition.kind, definition.name, "updated" if current else "published", row.revision))
    return outcomes
